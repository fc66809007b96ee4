$SMOLDER report does-not-exist.pb.gz
