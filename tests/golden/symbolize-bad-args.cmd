$SMOLDER symbolize 0x1000; $SMOLDER symbolize --elf a --pid 1 0x1000; $SMOLDER symbolize --pid 0; $SMOLDER symbolize --pid 12x; $SMOLDER symbolize --elf; $SMOLDER symbolize --bogus
