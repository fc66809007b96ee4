// Command gocpu writes a small Go CPU profile used as a test fixture
// (tests/data/go-cpu.pb.gz): about one second spent in two named functions,
// burnAlpha and burnBeta, so the reader can be checked against real
// runtime/pprof output.
//
// Regenerate with:
//
//	cd tests/data/gocpu && HOME=/tmp GO111MODULE=off go run main.go ../go-cpu.pb.gz
package main

import (
	"fmt"
	"os"
	"runtime/pprof"
	"time"
)

var sink uint64

//go:noinline
func burnAlpha(d time.Duration) {
	x := uint64(1)
	for end := time.Now().Add(d); time.Now().Before(end); {
		for i := 0; i < 10000; i++ {
			x = x*6364136223846793005 + 1442695040888963407
		}
	}
	sink += x
}

//go:noinline
func burnBeta(d time.Duration) {
	x := uint64(7)
	for end := time.Now().Add(d); time.Now().Before(end); {
		for i := 0; i < 10000; i++ {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
		}
	}
	sink += x
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gocpu OUTPUT")
		os.Exit(2)
	}
	f, err := os.Create(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	burnAlpha(600 * time.Millisecond)
	burnBeta(400 * time.Millisecond)
	pprof.StopCPUProfile()
	if err := f.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
