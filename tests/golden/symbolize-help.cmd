$SMOLDER symbolize --help
