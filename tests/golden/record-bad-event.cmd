$SMOLDER record --event instructions
