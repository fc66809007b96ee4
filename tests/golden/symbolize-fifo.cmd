# A FIFO or a directory as the ELF file: one line, at once (timeout: a hang fails).
mkfifo fifo && mkdir dir
timeout 10 $SMOLDER symbolize --elf fifo 0x1000; echo "-> $?"
timeout 10 $SMOLDER symbolize --elf dir 0x1000; echo "-> $?"
