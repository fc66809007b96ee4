mkdir st && $SMOLDER status --store st
