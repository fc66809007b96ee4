$SMOLDER agent --windw 10
