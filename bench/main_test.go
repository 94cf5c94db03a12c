package main

import (
	"testing"

	"go.uber.org/goleak"
)

// Every run stops what it started: the pool, its actor system, the HTTP
// clients and the memory sampler.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
