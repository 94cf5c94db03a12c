package server

import (
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stemcell-io/stemcell/actors"
)

// BenchmarkBlockingInvoke measures what the API adds to an activation: a
// blocking invoke over loopback HTTP with an invoker that answers at once,
// side by side with a bare HTTP round trip to a handler that does nothing,
// on the same client. The difference is the daemon's own overhead (auth,
// admission, decoding, record, store queue, JSON) without the pool.
func BenchmarkBlockingInvoke(b *testing.B) {
	h := newHarness(b)
	h.inv.run = func(_ context.Context, a actors.Activation) (actors.Result, error) { return succeed(a), nil }
	h.createHello()
	bare := http.NewServeMux()
	bare.HandleFunc("/run", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"payload":"Hello, Ada"}`))
	})
	bareSrv := httptest.NewServer(bare)
	defer bareSrv.Close()
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte(guestAuth))
	call := func(url string, withAuth bool) time.Duration {
		req, _ := http.NewRequest("POST", url, strings.NewReader(`{"name":"Ada"}`))
		req.Header.Set("Content-Type", "application/json")
		if withAuth {
			req.Header.Set("Authorization", auth)
		}
		start := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("status %d", resp.StatusCode)
		}
		return time.Since(start)
	}
	api := h.http.URL + "/api/v1/namespaces/_/actions/hello?blocking=true&result=true"
	var apiLat, bareLat []time.Duration
	b.ResetTimer()
	for range b.N {
		apiLat = append(apiLat, call(api, true))
		bareLat = append(bareLat, call(bareSrv.URL+"/run", false))
	}
	b.StopTimer()
	p := func(l []time.Duration, q float64) float64 {
		sort.Slice(l, func(i, j int) bool { return l[i] < l[j] })
		return float64(l[int(q*float64(len(l)-1))].Microseconds())
	}
	b.ReportMetric(p(apiLat, 0.5), "api-p50-µs")
	b.ReportMetric(p(apiLat, 0.99), "api-p99-µs")
	b.ReportMetric(p(bareLat, 0.5), "bare-p50-µs")
	b.ReportMetric(p(bareLat, 0.99), "bare-p99-µs")
}
