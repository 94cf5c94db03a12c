// Package fake is an in-memory factory.ContainerFactory for unit tests and
// scheduling benchmarks: simulated latencies per operation, injected faults,
// gates that hold an operation until a test releases it, call counters, and
// checks that every container was destroyed exactly once and used only in
// states where the engine would allow it.
//
// With zero latency, no faults and no gates, an operation does no timer,
// sleep, lock or allocation on its way, so a benchmark through the pool
// measures the pool. It registers itself as the provider "fake".
package fake
