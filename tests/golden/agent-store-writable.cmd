# A store, or a parent of it, that others can write is refused by the agent and by query.
mkdir open wp && chmod 0777 open wp && $SMOLDER agent --store open --window 10
$SMOLDER agent --store wp/store --window 10 2>&1 | sed "s|$PWD/||"; test -e wp/store || echo "nothing created under wp"
$SMOLDER query --store open
