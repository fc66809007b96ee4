$SMOLDER record -d 1 -o /
