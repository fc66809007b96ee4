mkdir st && $SMOLDER query --store st --since 2026-11-21T10:00:00Z --until 2026-11-21T11:00:00Z -o out.pb.gz; echo "query exit=$?"; test -e out.pb.gz || echo "no output written"
