# The Go fixture (tests/data/go-cpu.pb.gz), found through the build's CMakeCache.
src=$(sed -n 's/^smolder_SOURCE_DIR:STATIC=//p' "$(dirname "$SMOLDER")/CMakeCache.txt")
cp "$src/tests/data/go-cpu.pb.gz" . && : > empty-token && printf 'a\nb\n' > two-lines && printf 'nocolon\n' > basic
$SMOLDER upload http://127.0.0.1:9 go-cpu.pb.gz --spool spool --token-file missing-token; echo "-> $?"
$SMOLDER upload http://127.0.0.1:9 go-cpu.pb.gz --spool spool --token-file empty-token; echo "-> $?"
$SMOLDER upload http://127.0.0.1:9 go-cpu.pb.gz --spool spool --token-file two-lines; echo "-> $?"
$SMOLDER upload http://127.0.0.1:9 go-cpu.pb.gz --spool spool --basic-auth-file basic; echo "-> $?"
$SMOLDER upload http://127.0.0.1:9 go-cpu.pb.gz --spool spool --token-file a --basic-auth-file b; echo "-> $?"
test -e spool && echo "spool created" || echo "no spool created"
