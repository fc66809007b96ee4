# A stored window whose time_nanos is INT64_MAX and duration 0 (a plain
# pprof written by hand: string table "", "cpu", "nanoseconds", one sample
# type, one sample of value 7, then field 9): the zero-length window is the
# instant INT64_MAX, which no [since, until) reaches. Its end was once
# computed as INT64_MAX + 1 (UBSan). The other window, at
# 2026-11-21T10:01:00Z, matches.
head='\012\004\010\001\020\002\062\000\062\003cpu\062\013nanoseconds\022\003\022\001\007'
mkdir -p st/2026-11-21/10 || exit 9
printf "$head"'\110\377\377\377\377\377\377\377\377\177' >st/2026-11-21/10/smolder-h-20261121T100000Z.pb.gz
printf "$head"'\110\200\260\316\253\333\344\201\365\030' >st/2026-11-21/10/smolder-h-20261121T100100Z.pb.gz
$SMOLDER query --store st -o out.pb.gz; echo "query exit=$?"
$SMOLDER report out.pb.gz
