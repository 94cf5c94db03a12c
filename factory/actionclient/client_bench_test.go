package actionclient

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stemcell-io/stemcell/factory"
)

// BenchmarkWarmRun measures one warm /run round trip to a local runtime
// stand-in, with a keep-alive pool (akka-client true) and with one
// connection per request (false), side by side.
func BenchmarkWarmRun(b *testing.B) {
	for _, bc := range []struct {
		name   string
		pooled bool
	}{{"pooled", true}, {"conn-per-request", false}} {
		b.Run(bc.name, func(b *testing.B) {
			srv := httptest.NewServer(reply(200, `{"greeting":"Hello, stemcell!"}`))
			defer srv.Close()
			c := New(srv.Listener.Addr().String(), Options{Pooled: bc.pooled})
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
