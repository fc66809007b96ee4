$SMOLDER report --help
