# Folded stacks of the Go fixture, to stdout; then the HTML: 0640, nothing external.
src=$(sed -n 's/^smolder_SOURCE_DIR:STATIC=//p' "$(dirname "$SMOLDER")/CMakeCache.txt")
cp "$src/tests/data/go-cpu.pb.gz" . && $SMOLDER flamegraph --folded go-cpu.pb.gz &&
$SMOLDER flamegraph go-cpu.pb.gz && stat -c '%a %n' flamegraph.html &&
! grep -E '<script src|<link|https?://' flamegraph.html && echo "self-contained"
