$SMOLDER upload --help
