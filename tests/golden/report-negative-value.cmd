# Hand-made plain pprofs (smolder reads plain or gzip protobuf): the string
# table "", "cpu", "nanoseconds", one sample type {cpu, nanoseconds}, then
# samples whose only field is a packed value. A negative value is refused for
# report, flamegraph and diff alike; two samples of INT64_MAX once printed
# "Total samples = 2 (-2ns)", in one file or merged from two.
head='\012\004\010\001\020\002\062\000\062\003cpu\062\013nanoseconds'
seven='\022\003\022\001\007'
minus5='\022\014\022\012\373\377\377\377\377\377\377\377\377\001'
max='\022\013\022\011\377\377\377\377\377\377\377\377\177'
printf "$head$seven$minus5" >neg.pb && printf "$head$max$max" >max2.pb &&
printf "$head$max" >max1.pb && printf "$head$seven" >ok.pb || exit 9
$SMOLDER report neg.pb; echo "report exit=$?"
$SMOLDER flamegraph --folded neg.pb; echo "flamegraph exit=$?"
$SMOLDER diff ok.pb neg.pb; echo "diff exit=$?"
$SMOLDER report max2.pb; echo "report exit=$?"
$SMOLDER report max1.pb max1.pb; echo "report exit=$?"
$SMOLDER report ok.pb max1.pb
