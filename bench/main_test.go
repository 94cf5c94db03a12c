package main

import (
	"fmt"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// settleTime bounds how long goroutines may take to end after the last
// test: a connection that a server closes at its shutdown ends its
// client's reader only once the close arrives, and on a loaded 2-CPU CI
// machine that took longer than goleak's own retries (about a second).
const settleTime = 10 * time.Second

// Every run stops what it started: the pool, its actor system, the HTTP
// clients and the memory sampler.
func TestMain(m *testing.M) {
	code := m.Run()
	if code != 0 {
		os.Exit(code)
	}
	deadline := time.Now().Add(settleTime)
	for {
		err := goleak.Find()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			fmt.Fprintf(os.Stderr, "goleak: goroutines still running %v after the tests: %v\n", settleTime, err)
			os.Exit(1)
		}
		time.Sleep(100 * time.Millisecond) // polling pace; Find is the condition
	}
	os.Exit(0)
}
