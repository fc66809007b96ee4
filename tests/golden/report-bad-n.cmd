printf x > p.pb.gz && $SMOLDER report -n 0 p.pb.gz; $SMOLDER report -n 12abc p.pb.gz; $SMOLDER report --by pid p.pb.gz; $SMOLDER report
