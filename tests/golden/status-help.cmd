$SMOLDER status --help
