$SMOLDER record -d 1 -o /nonexistent-dir/out.pb.gz
