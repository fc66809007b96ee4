# As an unprivileged user (setpriv drops root when run as root).
if [ "$(id -u)" = 0 ]; then run="setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all"; else run=""; fi
$run $SMOLDER record -d 1 -o /tmp/smolder-golden-not-root.pb.gz
