# Credentials in the URL are never printed: a closed port makes the upload warn and fail.
src=$(sed -n 's/^smolder_SOURCE_DIR:STATIC=//p' "$(dirname "$SMOLDER")/CMakeCache.txt")
cp "$src/tests/data/go-cpu.pb.gz" . && mkdir -m 0700 sp &&
$SMOLDER upload --spool sp/spool --timeout 1 http://user:PW@127.0.0.1:1/ go-cpu.pb.gz 2>&1 | sed 's/after [0-9]* ms/after N ms/'
$SMOLDER upload --spool sp/spool 'http://user:PW@127.0.0.1:1/a b' go-cpu.pb.gz
