$SMOLDER diff only-one.pb.gz; $SMOLDER diff --fail-above 200 a b; $SMOLDER diff -n -1 a b; $SMOLDER diff a.pb.gz b.pb.gz
