mkdir real && ln -s real link && $SMOLDER agent --store link --window 10
