# A status whose last error and store carry a terminal escape: printed escaped.
mkdir st && printf 'pid=999999999\nlast_error=comm \033]0;PWN\007\033[2J\nstore_dir=/x\033[31m\n' > st/status &&
$SMOLDER status --store st > out; grep -E 'store:|last error:' out
echo "control bytes: $(tr -d '\n' <out | LC_ALL=C tr -cd '\000-\037\177' | wc -c)"
