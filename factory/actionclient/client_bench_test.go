package actionclient

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stemcell-io/stemcell/factory"
)

// BenchmarkWarmRun measures one warm /run round trip to a local runtime
// stand-in, side by side: a keep-alive pool (akka-client true), one
// connection per request (false), and, as the baseline of the latter,
// net/http's Transport with keep-alives off, which the one-connection
// client replaced.
func BenchmarkWarmRun(b *testing.B) {
	for _, bc := range []struct {
		name   string
		pooled bool
		client func(addr string) *Client
	}{
		{"pooled", true, nil},
		{"conn-per-request", false, nil},
		{"conn-per-request-transport-baseline", false, func(addr string) *Client {
			c := New(addr, Options{})
			t := &http.Transport{Proxy: nil, DisableCompression: true, DisableKeepAlives: true, MaxConnsPerHost: 1}
			c.send, c.closeIdle = (&http.Client{Transport: t}).Do, t.CloseIdleConnections
			return c
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			srv := httptest.NewServer(reply(200, `{"greeting":"Hello, stemcell!"}`))
			defer srv.Close()
			addr := srv.Listener.Addr().String()
			c := New(addr, Options{Pooled: bc.pooled})
			if bc.client != nil {
				c = bc.client(addr)
			}
			defer c.Close()
			req := factory.RunRequest{
				Params: json.RawMessage(`{"name":"stemcell"}`), Namespace: "guest", ActionName: "/guest/hello",
				ActionVersion: "0.0.1", ActivationID: "0123456789abcdef0123456789abcdef", TransactionID: "tid",
				Deadline: time.Now().Add(time.Minute), Timeout: 10 * time.Second,
			}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				out, err := c.Run(ctx, req)
				if err != nil || out.Status != factory.StatusSuccess {
					b.Fatalf("run: %+v, %v", out, err)
				}
			}
		})
	}
}
