$SMOLDER upload http://127.0.0.1:9 does-not-exist.pb.gz --spool spool; echo "-> $?"; test -e spool && echo "spool created" || echo "no spool created"
