// A Go workload whose hot path runs on the system stack: main.onSystemStack
// calls runtime.systemstack (reached through go:linkname), which switches to
// the thread's g0 stack and runs main.spinG0 there. Two goroutines do it at
// once: main's (root runtime.main <- runtime.goexit) and a worker's (root
// runtime.goexit). Whole stacks: main.spinG0 <- main.onSystemStack.func1 <-
// runtime.systemstack <- main.onSystemStack <- main.worker <- ... A third
// goroutine, main.clockLoop, calls time.Now, whose vDSO call runs on g0's
// stack too. Usage: gosys (runs about 20 s at most).
package main

import (
	"os"
	"time"
	_ "unsafe"
)

//go:linkname systemstack runtime.systemstack
func systemstack(fn func())

//go:noinline
func spinG0(n int) int {
	x := n
	for i := 0; i < 20000000; i++ {
		x = x*1103515245 + 12345
	}
	return x
}

//go:noinline
func onSystemStack(n int) int {
	r := 0
	systemstack(func() { r = spinG0(n) })
	return r
}

//go:noinline
func worker(n int, done chan int) {
	s := 0
	for i := 0; i < n; i++ {
		s += onSystemStack(i)
	}
	done <- s
}

var clockSink int64

//go:noinline
func clockLoop() {
	for {
		clockSink += time.Now().UnixNano()
	}
}

func main() {
	go clockLoop()
	done := make(chan int, 2)
	go worker(400, done)
	worker(400, done)
	if <-done+<-done == 42 {
		os.Exit(3)
	}
}
