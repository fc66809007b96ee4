# Turns file IN into a C source OUT defining
#   const unsigned char NAME[]; const unsigned long NAME_len;
# (NAME is NUL-terminated too, so it can be used as a string.)
# Usage: cmake -DIN=file -DOUT=file.c -DNAME=symbol -P embed.cmake
file(READ ${IN} hex HEX)
string(LENGTH "${hex}" hex_len)
math(EXPR len "${hex_len} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
# Break the array into lines of 16 bytes so compilers and diffs stay happy.
string(REGEX REPLACE "((0x[0-9a-f][0-9a-f],){16})" "\\1\n" bytes "${bytes}")
file(WRITE ${OUT} "/* Generated from ${IN} by embed.cmake; do not edit. */\n"
	"extern const unsigned char ${NAME}[];\n"
	"extern const unsigned long ${NAME}_len;\n"
	"const unsigned char ${NAME}[] = {\n${bytes}0x00};\n"
	"const unsigned long ${NAME}_len = ${len};\n")
