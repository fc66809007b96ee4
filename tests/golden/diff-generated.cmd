# Two generated profiles (tests/integration/viz_genprofile): hot_new_path appears, legacy_path goes.
gen="$(dirname "$SMOLDER")/tests/integration/viz_genprofile"
"$gen" base.pb.gz 3000 300 base && "$gen" new.pb.gz 3600 300 new &&
$SMOLDER diff -n 6 base.pb.gz new.pb.gz && stat -c '%a %n' diff.html &&
$SMOLDER diff -n 3 --no-normalize -o raw.html base.pb.gz new.pb.gz &&
$SMOLDER diff -n 1 --fail-above 5 base.pb.gz new.pb.gz
