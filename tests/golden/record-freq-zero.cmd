$SMOLDER record -F 0
