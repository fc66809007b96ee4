# A FIFO or a directory at -o is refused and stays what it was; "-o -" is stdout.
src=$(sed -n 's/^smolder_SOURCE_DIR:STATIC=//p' "$(dirname "$SMOLDER")/CMakeCache.txt")
cp "$src/tests/data/go-cpu.pb.gz" . && mkfifo out.html && mkdir dir
timeout 10 $SMOLDER flamegraph -o out.html go-cpu.pb.gz; echo "flamegraph -> $?"; test -p out.html && echo "still a FIFO"
timeout 10 $SMOLDER diff -o out.html go-cpu.pb.gz go-cpu.pb.gz > /dev/null; echo "diff -> $?"; test -p out.html && echo "still a FIFO"
timeout 10 $SMOLDER flamegraph -o dir go-cpu.pb.gz; echo "flamegraph dir -> $?"
timeout 10 $SMOLDER diff -o - go-cpu.pb.gz go-cpu.pb.gz | grep -c '<!DOCTYPE html>'; test ! -e ./- && echo "no file named -"
