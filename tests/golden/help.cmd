$SMOLDER --help
