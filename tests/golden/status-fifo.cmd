# A FIFO as the status file: one line, at once (timeout: a hang fails).
mkfifo status && timeout 10 $SMOLDER status --status-file status; echo "-> $?"
