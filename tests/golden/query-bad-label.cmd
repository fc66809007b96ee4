$SMOLDER query --label pid=1 --label 9lives=x
