$SMOLDER record -d
