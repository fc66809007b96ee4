# A FIFO as the config file: one line, at once (timeout: a hang fails).
mkfifo smolder.conf && timeout 10 $SMOLDER agent --config smolder.conf --store st; echo "-> $?"
