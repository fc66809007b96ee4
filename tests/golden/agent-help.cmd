$SMOLDER agent --help
