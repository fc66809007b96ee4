$SMOLDER record -d -1
