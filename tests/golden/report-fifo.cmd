# FIFOs and directories where a profile is expected: one line each, at once (timeout: a hang fails).
src=$(sed -n 's/^smolder_SOURCE_DIR:STATIC=//p' "$(dirname "$SMOLDER")/CMakeCache.txt")
cp "$src/tests/data/go-cpu.pb.gz" . && mkfifo fifo && mkdir dir
timeout 10 $SMOLDER report fifo; echo "report -> $?"
timeout 10 $SMOLDER report dir; echo "report dir -> $?"
timeout 10 $SMOLDER flamegraph -o out.html fifo; echo "flamegraph -> $?"
timeout 10 $SMOLDER diff -o out.html go-cpu.pb.gz fifo; echo "diff -> $?"
test ! -e out.html && echo "no output written"
