mkdir st && echo "pid=999999999" > st/status && $SMOLDER status --store st > out; echo "status exit=$?"; head -1 out
