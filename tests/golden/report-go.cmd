# The Go fixture (tests/data/go-cpu.pb.gz), found through the build's CMakeCache.
src=$(sed -n 's/^smolder_SOURCE_DIR:STATIC=//p' "$(dirname "$SMOLDER")/CMakeCache.txt")
cp "$src/tests/data/go-cpu.pb.gz" . && $SMOLDER report go-cpu.pb.gz && $SMOLDER report -n 2 --by comm go-cpu.pb.gz go-cpu.pb.gz
