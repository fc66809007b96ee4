$SMOLDER flamegraph -o out.html does-not-exist.pb.gz; test ! -e out.html
