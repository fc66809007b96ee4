$SMOLDER query --since yesterday
