// A Go workload for the unwinding test: Go keeps frame pointers and emits no
// .eh_frame; main.leafSpin <- main.middle <- main.main <- runtime.main <-
// runtime.goexit must come out whole. Usage: gospin (runs about 20 s at most).
package main

import "os"

//go:noinline
func leafSpin(n int) int {
	x := n
	for i := 0; i < 50000000; i++ {
		x = x*1103515245 + 12345
	}
	return x
}

//go:noinline
func middle(n int) int { return leafSpin(n) + 1 }

func main() {
	s := 0
	for i := 0; i < 400; i++ {
		s += middle(i)
	}
	if s == 42 {
		os.Exit(3)
	}
}
