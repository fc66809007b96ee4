$SMOLDER query --help
