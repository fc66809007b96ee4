$SMOLDER record -p 4194303 -d 1
