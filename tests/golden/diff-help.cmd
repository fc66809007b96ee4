$SMOLDER diff --help
