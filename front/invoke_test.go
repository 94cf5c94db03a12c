package front

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stemcell-io/stemcell/server"
)

// threeFakes are invokers that all answer like echoRecord.
func threeFakes(t *testing.T) []*fakeInvoker {
	var out []*fakeInvoker
	for _, id := range []string{"inv-a", "inv-b", "inv-c"} {
		out = append(out, newFakeInvoker(t, id, echoRecord(id)))
	}
	return out
}

func TestInvokeGoesToFirstRanked(t *testing.T) {
	tf := newTestFront(t, threeFakes(t))
	tf.createHello()
	order := tf.ranking()

	r := tf.do("POST", "/api/v1/namespaces/_/actions/hello?blocking=true", `{"x":1}`)
	if r.status != 200 {
		t.Fatalf("invoke: %d %s", r.status, r.body)
	}
	id := r.header.Get(server.ActivationHeader)
	if !server.ValidActivationID(id) {
		t.Fatalf("activation id header %q", id)
	}
	res := r.json(t)["response"].(map[string]any)["result"].(map[string]any)
	if res["ranOn"] != order[0] {
		t.Fatalf("ran on %v, want the first-ranked %s (ranking %v)", res["ranOn"], order[0], order)
	}
	got := tf.fakes[order[0]].requests()
	if len(got) != 1 {
		t.Fatalf("first-ranked got %d requests, want 1", len(got))
	}
	g := got[0]
	checks := map[string][2]string{
		"path":          {g.path, "/api/v1/namespaces/_/actions/hello"},
		"query":         {g.query, "blocking=true"},
		"body":          {g.body, `{"x":1}`},
		"content type":  {g.header.Get("Content-Type"), "application/json"},
		"authorization": {g.header.Get("Authorization"), tf.authHeader()},
		"hop":           {g.header.Get(server.HopHeader), frontID},
		"activation id": {g.header.Get(server.HopActivationHeader), id},
	}
	for what, c := range checks {
		if c[0] != c[1] {
			t.Errorf("forwarded %s = %q, want %q", what, c[0], c[1])
		}
	}
	for _, other := range order[1:] {
		if n := len(tf.fakes[other].requests()); n != 0 {
			t.Errorf("%s got %d requests, want none", other, n)
		}
	}

	// Non-blocking: the invoker's 202 passes through, to the same invoker.
	r = tf.do("POST", "/api/v1/namespaces/_/actions/hello", `{}`)
	if r.status != 202 || r.json(t)["activationId"] != r.header.Get(server.ActivationHeader) {
		t.Fatalf("non-blocking invoke: %d %s", r.status, r.body)
	}
	if n := tf.fakes[order[0]].invokes(); n != 2 {
		t.Errorf("first-ranked got %d invokes, want 2", n)
	}
	if v := tf.metric("stemcell_front_forwarded_total"); v != "2" {
		t.Errorf("forwarded = %s, want 2", v)
	}
	if v := tf.metric("stemcell_front_retried_total"); v != "0" {
		t.Errorf("retried = %s, want 0", v)
	}
}

func (tf *testFront) authHeader() string {
	return "Basic " + basic(guestAuth)
}

// refuseWith answers every request with status and an OpenWhisk envelope.
func refuseWith(status int, msg string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"error":%q,"code":"x"}`, msg)
	}
}

func TestRefusalTriesNextCandidate(t *testing.T) {
	cases := []struct {
		name   string
		refuse func(fi *fakeInvoker)
		posted int // invokes the refusing invoker saw
	}{
		{"connection refused", func(fi *fakeInvoker) { fi.http.Close() }, 0},
		{"429", func(fi *fakeInvoker) {
			fi.set(refuseWith(http.StatusTooManyRequests, "Too many concurrent requests in flight (count: 30, allowed: 30)."))
		}, 1},
		{"503 draining", func(fi *fakeInvoker) { fi.set(refuseWith(http.StatusServiceUnavailable, server.MsgUnavailable)) }, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tf := newTestFront(t, threeFakes(t))
			tf.createHello()
			order := tf.ranking()
			tc.refuse(tf.fakes[order[0]])
			r := tf.do("POST", "/api/v1/namespaces/_/actions/hello?blocking=true&result=true", `{}`)
			if r.status != 200 || r.json(t)["ranOn"] != order[1] {
				t.Fatalf("invoke: %d %s, want 200 from the second-ranked %s", r.status, r.body, order[1])
			}
			if n := tf.fakes[order[0]].invokes(); n != tc.posted {
				t.Errorf("refusing invoker saw %d invokes, want %d", n, tc.posted)
			}
			if n := tf.fakes[order[2]].invokes(); n != 0 {
				t.Errorf("third-ranked saw %d invokes, want 0", n)
			}
			// The retry leaves the invoker what the caller has left of its
			// wait, no more.
			q, err := url.ParseQuery(tf.fakes[order[1]].requests()[0].query)
			ms, _ := strconv.ParseInt(q.Get("timeout"), 10, 64)
			if err != nil || q.Get("blocking") != "true" || q.Get("result") != "true" || ms < 1 || ms > time.Minute.Milliseconds() {
				t.Errorf("retry's query %v: want blocking, result and a timeout within the 60 s wait", q)
			}
			if v := tf.metric("stemcell_front_retried_total"); v != "1" {
				t.Errorf("retried = %s, want 1", v)
			}
		})
	}
}

func TestAllRefuse(t *testing.T) {
	t.Run("503", func(t *testing.T) {
		fakes := threeFakes(t)
		tf := newTestFront(t, fakes)
		tf.createHello()
		fakes[0].http.Close()
		fakes[1].set(refuseWith(http.StatusServiceUnavailable, server.MsgUnavailable))
		fakes[2].set(refuseWith(http.StatusServiceUnavailable, server.MsgUnavailable))
		r := tf.do("POST", "/api/v1/namespaces/_/actions/hello?blocking=true", `{}`)
		wantError(t, r, http.StatusServiceUnavailable, server.MsgUnavailable, "No invoker accepted", "inv-a: ", "inv-b: HTTP 503", "inv-c: HTTP 503")
		if v := tf.metric(`stemcell_front_rejected_total{reason="all_refused"}`); v != "1" {
			t.Errorf("rejected all_refused = %s, want 1", v)
		}
	})
	t.Run("429 wins", func(t *testing.T) {
		fakes := threeFakes(t)
		tf := newTestFront(t, fakes)
		tf.createHello()
		const busy = "Too many requests in the last minute (count: 61, allowed: 60)."
		fakes[0].set(refuseWith(http.StatusServiceUnavailable, server.MsgUnavailable))
		fakes[1].set(refuseWith(http.StatusTooManyRequests, busy))
		fakes[2].set(refuseWith(http.StatusServiceUnavailable, server.MsgUnavailable))
		r := tf.do("POST", "/api/v1/namespaces/_/actions/hello", `{}`)
		wantError(t, r, http.StatusTooManyRequests, busy, "inv-b: HTTP 429")
		if r.header.Get("Retry-After") == "" {
			t.Error("429 without Retry-After")
		}
	})
	t.Run("no invoker", func(t *testing.T) {
		tf := newTestFront(t, nil)
		tf.createHello()
		r := tf.do("POST", "/api/v1/namespaces/_/actions/hello", `{}`)
		wantError(t, r, http.StatusServiceUnavailable, "the view holds no invoker")
	})
}

// hangUp reads the request and closes the connection without an answer:
// an invoker that died after accepting.
func hangUp(w http.ResponseWriter, r *http.Request) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err == nil {
		conn.Close()
	}
}

func TestLostInvokerAnsweredOnce(t *testing.T) {
	cases := []struct {
		name, query string
		status      int
	}{
		{"blocking", "?blocking=true", 500},
		{"blocking result", "?blocking=true&result=true", 500},
		{"non-blocking", "", 202},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tf := newTestFront(t, threeFakes(t))
			tf.createHello()
			order := tf.ranking()
			tf.fakes[order[0]].set(hangUp)
			r := tf.do("POST", "/api/v1/namespaces/_/actions/hello"+tc.query, `{}`)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d; body %s", r.status, tc.status, r.body)
			}
			id := r.header.Get(server.ActivationHeader)
			if sent := tf.fakes[order[0]].requests(); len(sent) != 1 || sent[0].header.Get(server.HopActivationHeader) != id {
				t.Fatalf("lost invoker got %d requests (want 1, with id %s)", len(sent), id)
			}
			for _, other := range order[1:] {
				if n := len(tf.fakes[other].requests()); n != 0 {
					t.Errorf("%s got %d requests after the loss, want none: a lost activation is never retried", other, n)
				}
			}
			wantLost := "invoker " + order[0] + " was lost"
			switch tc.name {
			case "blocking":
				m := r.json(t)
				resp := m["response"].(map[string]any)
				if m["activationId"] != id || resp["status"] != "whisk internal error" || resp["success"] != false ||
					!strings.Contains(fmt.Sprint(resp["result"]), wantLost) {
					t.Fatalf("lost record %s", r.body)
				}
			case "blocking result":
				if e, _ := r.json(t)["error"].(string); !strings.Contains(e, wantLost) {
					t.Fatalf("lost result %s", r.body)
				}
			default:
				if r.json(t)["activationId"] != id {
					t.Fatalf("202 body %s", r.body)
				}
			}
			g := tf.do("GET", "/api/v1/namespaces/_/activations/"+id, "")
			if g.status != 200 {
				t.Fatalf("GET the lost record: %d %s", g.status, g.body)
			}
			resp := g.json(t)["response"].(map[string]any)
			if resp["status"] != "whisk internal error" || !strings.Contains(fmt.Sprint(resp["result"]), wantLost) {
				t.Fatalf("stored lost record %s", g.body)
			}
			if v := tf.metric("stemcell_front_lost_total"); v != "1" {
				t.Errorf("lost = %s, want 1", v)
			}
		})
	}
}

func TestSilentInvokerLostAtDeadline(t *testing.T) {
	fakes := threeFakes(t)
	tf := newTestFront(t, fakes, func(o *Options) {
		o.Server.BlockingWait = 200 * time.Millisecond
		o.AnswerMargin = 200 * time.Millisecond
	})
	tf.createHello()
	order := tf.ranking()
	// Accepts, then never answers (until the front gives up and hangs up).
	tf.fakes[order[0]].set(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	start := time.Now()
	r := tf.do("POST", "/api/v1/namespaces/_/actions/hello?blocking=true", `{}`)
	took := time.Since(start)
	if r.status != 500 || !strings.Contains(string(r.body), "whisk internal error") {
		t.Fatalf("silent invoker: %d %s", r.status, r.body)
	}
	if took < 400*time.Millisecond {
		t.Errorf("answered after %v: before the wait and the margin (400 ms) were over", took)
	}
	for _, other := range order[1:] {
		if n := len(tf.fakes[other].requests()); n != 0 {
			t.Errorf("%s got %d requests, want none", other, n)
		}
	}
}

func TestForwardedRequestRefused(t *testing.T) {
	tf := newTestFront(t, threeFakes(t))
	tf.createHello()
	r := tf.do("POST", "/api/v1/namespaces/_/actions/hello?blocking=true", `{}`, server.HopHeader, "front-other")
	wantError(t, r, http.StatusLoopDetected, `forwarded by front "front-other"`, `front "`+frontID+`" does not forward`)
	for id, fi := range tf.fakes {
		if n := len(fi.requests()); n != 0 {
			t.Errorf("%s got %d requests, want none", id, n)
		}
	}
	if v := tf.metric(`stemcell_front_rejected_total{reason="hop"}`); v != "1" {
		t.Errorf("rejected hop = %s, want 1", v)
	}
}
