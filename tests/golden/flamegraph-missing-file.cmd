$SMOLDER flamegraph -o out.html does-not-exist.pb.gz; echo "flamegraph exit $?"; test ! -e out.html
