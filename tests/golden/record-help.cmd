$SMOLDER record --help
