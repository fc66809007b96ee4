$SMOLDER bogus
