$SMOLDER symbolize --elf /nonexistent/file 0x1000; printf "zz\n-1\n" | $SMOLDER symbolize --elf /bin/sh
