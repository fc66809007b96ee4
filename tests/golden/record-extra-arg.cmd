$SMOLDER record extra
