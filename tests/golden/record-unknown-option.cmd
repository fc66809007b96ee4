$SMOLDER record --bogus
