# Comms, function and file names holding ESC sequences, BEL, a newline and a non-UTF-8 byte
# (viz_genprofile hostile): every text output escapes them and keeps one line per row.
gen="$(dirname "$SMOLDER")/tests/integration/viz_genprofile"
"$gen" h.pb.gz 40 6 hostile && "$gen" b.pb.gz 40 6 base &&
{ $SMOLDER report --by comm -n 1 h.pb.gz && $SMOLDER report -n 2 h.pb.gz &&
  $SMOLDER diff -n 2 -o d.html b.pb.gz h.pb.gz && $SMOLDER flamegraph --folded h.pb.gz | head -n 2 | cut -c 1-120; } >out 2>&1
cat out
echo "control bytes: $(tr -d '\n' <out | LC_ALL=C tr -cd '\000-\037\177' | wc -c)"
