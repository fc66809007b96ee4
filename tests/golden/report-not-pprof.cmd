echo "not a profile" > notes.txt && $SMOLDER report notes.txt
