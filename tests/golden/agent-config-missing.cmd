$SMOLDER agent --config does-not-exist.conf --store st
