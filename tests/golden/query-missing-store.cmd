$SMOLDER query --store does-not-exist
