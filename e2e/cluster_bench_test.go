package e2e

import (
	"slices"
	"testing"
	"time"
)

// BenchmarkFrontHop measures what the cluster front adds to a warm
// blocking invoke: a local cluster of one invoker on the fake factory (a
// run takes no time) and one front, the same warm action invoked through
// the invoker directly and through the front, alternately in one loop. It
// reports p50 and p99 of each and the p50 of each iteration's own
// difference (the hop: authentication, action lookup, placement, one more
// loopback HTTP round trip with the body, and relaying the answer).
//
//	go test -run '^$' -bench FrontHop -benchtime 2000x ./e2e/
func BenchmarkFrontHop(b *testing.B) {
	c := startLocalCluster(b, "--invokers", "1", "--fronts", "1", "--fake", "--lease-ttl", "2s",
		"--set", "runtimes-manifest.stem-cells=none")
	front, invoker := c.info.Fronts[0].URL, c.info.Invokers[0].URL
	body := map[string]any{"exec": map[string]any{"kind": "nodejs:default", "code": "function main(a) { return a }"}}
	if r, err := call(front, "PUT", "/api/v1/namespaces/_/actions/hop", body); err != nil || r.status != 200 {
		b.Fatalf("create: %v %v", r, err)
	}
	invoke := func(base string) time.Duration {
		start := time.Now()
		r, err := call(base, "POST", "/api/v1/namespaces/_/actions/hop?blocking=true&result=true", map[string]int{"n": 1})
		if err != nil || r.status != 200 {
			b.Fatalf("invoke through %s: %v %v", base, r, err)
		}
		return time.Since(start)
	}
	for range 50 { // warm the container and both connections
		invoke(front)
		invoke(invoker)
	}
	direct := make([]time.Duration, 0, b.N)
	hopped := make([]time.Duration, 0, b.N)
	diff := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		d, h := invoke(invoker), invoke(front)
		direct, hopped, diff = append(direct, d), append(hopped, h), append(diff, h-d)
	}
	b.StopTimer()
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	pct := func(s []time.Duration, p float64) time.Duration {
		slices.Sort(s)
		return s[min(len(s)-1, int(p*float64(len(s))))]
	}
	b.ReportMetric(ms(pct(direct, 0.5)), "invoker-p50-ms")
	b.ReportMetric(ms(pct(direct, 0.99)), "invoker-p99-ms")
	b.ReportMetric(ms(pct(hopped, 0.5)), "front-p50-ms")
	b.ReportMetric(ms(pct(hopped, 0.99)), "front-p99-ms")
	b.ReportMetric(ms(pct(diff, 0.5)), "paired-hop-p50-ms")
}
