# A FIFO as the profile, the token file or the basic-auth file: one line, at once, nothing spooled.
src=$(sed -n 's/^smolder_SOURCE_DIR:STATIC=//p' "$(dirname "$SMOLDER")/CMakeCache.txt")
cp "$src/tests/data/go-cpu.pb.gz" . && mkfifo fifo
timeout 10 $SMOLDER upload http://127.0.0.1:9 fifo --spool spool; echo "-> $?"
timeout 10 $SMOLDER upload http://127.0.0.1:9 go-cpu.pb.gz --spool spool --token-file fifo; echo "-> $?"
timeout 10 $SMOLDER upload http://127.0.0.1:9 go-cpu.pb.gz --spool spool --basic-auth-file fifo; echo "-> $?"
test -e spool && echo "spool created" || echo "no spool created"
timeout 10 $SMOLDER upload http://127.0.0.1:9 go-cpu.pb.gz --spool spool2 --ca-file fifo; echo "-> $?"
test -e spool2 && echo "spool2 created" || echo "no spool2 created"
