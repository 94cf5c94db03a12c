package server

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/stemcell-io/stemcell/actors"
	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/store"
)

// withLimits sets limits.actions.invokes.
func withLimits(concurrent, perMinute int) option {
	return func(c *config.Config, _ *config.ServerConfig) {
		c.Limits.Actions.Invokes = config.InvokeLimits{Concurrent: concurrent, PerMinute: perMinute}
	}
}

// hold makes every activation run until the returned release is called
// (or the test ends); started receives each id as its run begins.
func (h *harness) hold() (release func(), started <-chan string) {
	gate := make(chan struct{})
	ids := make(chan string, 1000)
	h.inv.mu.Lock()
	h.inv.run = func(ctx context.Context, a actors.Activation) (actors.Result, error) {
		ids <- a.ID
		select {
		case <-gate:
			return succeed(a), nil
		case <-ctx.Done():
			return actors.Result{}, ctx.Err()
		}
	}
	h.inv.mu.Unlock()
	return func() { close(gate) }, ids
}

func (h *harness) waitIdle() {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := h.srv.WaitIdle(ctx); err != nil {
		h.t.Fatal(err)
	}
}

// counter reads a counter of the server's registry by one label.
func (h *harness) counter(name, label, value string) float64 {
	h.t.Helper()
	families, err := h.srv.gatherer.Gather()
	if err != nil {
		h.t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if hasLabel(m, label, value) {
				return m.GetCounter().GetValue()
			}
		}
	}
	h.t.Fatalf("no series %s{%s=%q}", name, label, value)
	return 0
}

func hasLabel(m *dto.Metric, name, value string) bool {
	for _, l := range m.GetLabel() {
		if l.GetName() == name && l.GetValue() == value {
			return true
		}
	}
	return false
}

// records counts the finished activations of ns.
func (h *harness) records(ns string) int {
	h.t.Helper()
	n, err := h.store.CountActivations(store.Query{Namespace: ns})
	if err != nil {
		h.t.Fatal(err)
	}
	return n
}

// wantRefused checks a 429 that created no activation.
func wantRefused(t *testing.T, r reply, msg string) {
	t.Helper()
	wantError(t, r, 429, msg)
	if r.header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	if id := r.header.Get(activationHeader); id != "" {
		t.Errorf("429 names activation %s", id)
	}
}

const invokeHello = "/api/v1/namespaces/_/actions/hello"

func TestInvokeLimits(t *testing.T) {
	tests := []struct {
		name                  string
		concurrent, perMinute int
		accepted              int    // invokes answered 202 first
		refusal               string // the next one's 429, "" for none
		reason                string
	}{
		{"concurrent", 3, 0, 3, "Too many concurrent requests in flight (count: 3, allowed: 3).", refusedConcurrent},
		{"per minute", 0, 4, 4, "Too many requests in the last minute (count: 5, allowed: 4).", refusedPerMinute},
		{"per minute before concurrent", 2, 2, 2, "Too many requests in the last minute (count: 3, allowed: 2).", refusedPerMinute},
		{"0 is no limit", 0, 0, 200, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, withLimits(tt.concurrent, tt.perMinute))
			h.createHello()
			release, _ := h.hold()
			for i := range tt.accepted {
				if r := h.do("POST", invokeHello, guestAuth, "{}"); r.status != 202 {
					t.Fatalf("invoke %d: %d %s", i+1, r.status, r.body)
				}
			}
			if tt.refusal != "" {
				wantRefused(t, h.do("POST", invokeHello, guestAuth, "{}"), tt.refusal)
				if got := h.counter("stemcell_api_admission_rejected_total", "reason", tt.reason); got != 1 {
					t.Errorf("rejected{reason=%s} = %v, want 1", tt.reason, got)
				}
			}
			if got := h.srv.admit.namespaceCount("guest"); got != tt.accepted {
				t.Errorf("guest in flight = %d, want %d", got, tt.accepted)
			}
			release()
			h.waitIdle()
			if got := h.records("guest"); got != tt.accepted {
				t.Errorf("records = %d, want %d (one per accepted invoke, none for the refused)", got, tt.accepted)
			}
		})
	}
}

// TestBlockingInvokesCountAsConcurrent: a blocking invoke waiting for its
// result is in flight as much as a non-blocking one.
func TestBlockingInvokesCountAsConcurrent(t *testing.T) {
	h := newHarness(t, withLimits(1, 0))
	h.createHello()
	release, started := h.hold()
	blocking := make(chan reply, 1)
	go func() { blocking <- h.do("POST", invokeHello+"?blocking=true", guestAuth, "{}") }()
	<-started
	wantRefused(t, h.do("POST", invokeHello, guestAuth, "{}"), "Too many concurrent requests in flight (count: 1, allowed: 1).")
	release()
	if r := <-blocking; r.status != 200 {
		t.Fatalf("blocking invoke: %d %s", r.status, r.body)
	}
	h.waitIdle()
	if r := h.do("POST", invokeHello, guestAuth, "{}"); r.status != 202 {
		t.Errorf("after the blocking invoke finished: %d %s", r.status, r.body)
	}
}

func TestPerMinuteWindowRollsOver(t *testing.T) {
	h := newHarness(t, withLimits(0, 2))
	h.createHello()
	for minute, at := range []time.Time{
		time.Date(2024, 6, 1, 12, 0, 30, 0, time.UTC),
		time.Date(2024, 6, 1, 12, 1, 0, 0, time.UTC), // 30 s later, a new minute
	} {
		h.clock.set(at)
		for i := range 2 {
			if r := h.do("POST", invokeHello+"?blocking=true", guestAuth, "{}"); r.status != 200 {
				t.Fatalf("minute %d, invoke %d: %d %s", minute, i+1, r.status, r.body)
			}
		}
		wantRefused(t, h.do("POST", invokeHello+"?blocking=true", guestAuth, "{}"), "Too many requests in the last minute (count: 3, allowed: 2).")
	}
}

func TestNamespacesCountedSeparately(t *testing.T) {
	h := newHarness(t, withLimits(1, 0))
	h.createHello()
	if r := h.do("PUT", "/api/v1/namespaces/_/actions/hello", aliceAuth, helloJS); r.status != 200 {
		t.Fatalf("alice's hello: %d %s", r.status, r.body)
	}
	release, _ := h.hold()
	for _, auth := range []string{guestAuth, aliceAuth} {
		if r := h.do("POST", invokeHello, auth, "{}"); r.status != 202 {
			t.Fatalf("first invoke: %d %s", r.status, r.body)
		}
	}
	for _, auth := range []string{guestAuth, aliceAuth} {
		wantRefused(t, h.do("POST", invokeHello, auth, "{}"), "Too many concurrent requests in flight (count: 1, allowed: 1).")
	}
	release()
	h.waitIdle()
	if g, a := h.records("guest"), h.records("alice"); g != 1 || a != 1 {
		t.Errorf("records: guest %d, alice %d; want 1 each", g, a)
	}
}

// TestBufferFull: a pool that has no room answers 429 with its own message;
// the activation leaves no record and gives its admission back.
func TestBufferFull(t *testing.T) {
	const msg = "The invoker's queue is full: 10000 activations wait (container-pool.buffer-size); try again later."
	tests := []struct {
		name     string
		query    string
		inResult bool // the refusal comes as the run's result, not from Enqueue
	}{
		{"non-blocking", "", false},
		{"blocking", "?blocking=true", false},
		{"blocking, refused in the result", "?blocking=true", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, withLimits(1, 0))
			h.createHello()
			full := fmt.Errorf("2 activations already wait: %w", actors.ErrBufferFull)
			h.inv.mu.Lock()
			if tt.inResult {
				h.inv.run = func(context.Context, actors.Activation) (actors.Result, error) { return actors.Result{}, full }
			} else {
				h.inv.refuse = func(actors.Activation) error { return full }
			}
			h.inv.mu.Unlock()
			wantRefused(t, h.do("POST", invokeHello+tt.query, guestAuth, "{}"), msg)
			h.waitIdle()
			if got := h.counter("stemcell_api_admission_rejected_total", "reason", refusedBufferFull); got != 1 {
				t.Errorf("rejected{reason=buffer_full} = %v, want 1", got)
			}
			h.inv.mu.Lock()
			refused := append(h.inv.refused, h.inv.seen...)
			h.inv.refuse, h.inv.run = nil, nil
			h.inv.mu.Unlock()
			if len(refused) != 1 {
				t.Fatalf("the pool saw %d activations, want 1", len(refused))
			}
			if _, err := h.store.GetActivation("guest", refused[0].ID); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("record of the refused activation: %v, want none", err)
			}
			// The one admission place came back: the next invoke is accepted.
			if r := h.do("POST", invokeHello+"?blocking=true", guestAuth, "{}"); r.status != 200 {
				t.Fatalf("after the refusal: %d %s", r.status, r.body)
			}
			if n := h.records("guest"); n != 1 {
				t.Errorf("records = %d, want only the accepted one", n)
			}
		})
	}
}

func TestShuttingDownPoolAnswers503(t *testing.T) {
	h := newHarness(t, withLimits(1, 0))
	h.createHello()
	h.inv.mu.Lock()
	h.inv.refuse = func(actors.Activation) error { return actors.ErrShuttingDown }
	h.inv.mu.Unlock()
	for _, q := range []string{"", "?blocking=true"} {
		r := h.do("POST", invokeHello+q, guestAuth, "{}")
		wantError(t, r, 503, msgUnavailable)
		if id := r.header.Get(activationHeader); id != "" {
			t.Errorf("503 names activation %s", id)
		}
	}
	if n, c := h.records("guest"), h.srv.InFlight(); n != 0 || c != 0 {
		t.Errorf("records %d, in flight %d; want none", n, c)
	}
}

// TestBlockingPastWaitRecordedOnce: a blocking caller that waits past its
// wait gets 202 with the id; the activation still runs, is recorded once
// and then gives its admission back.
func TestBlockingPastWaitRecordedOnce(t *testing.T) {
	h := newHarness(t, withLimits(1, 0))
	h.createHello()
	release, _ := h.hold()
	r := h.do("POST", invokeHello+"?blocking=true&timeout=20", guestAuth, `{"name":"Ada"}`)
	if r.status != 202 {
		t.Fatalf("blocking past its wait: %d %s", r.status, r.body)
	}
	id, _ := r.json(t)["activationId"].(string)
	if id == "" || id != r.header.Get(activationHeader) {
		t.Fatalf("202 body %s, header %q", r.body, r.header.Get(activationHeader))
	}
	// Still running, still counted.
	wantRefused(t, h.do("POST", invokeHello, guestAuth, "{}"), "(count: 1, allowed: 1)")
	release()
	h.waitIdle()
	g := h.do("GET", "/api/v1/namespaces/_/activations/"+id, guestAuth, "")
	if g.status != 200 || !strings.Contains(string(g.body), `"result":{"name":"Ada"}`) {
		t.Errorf("record: %d %s", g.status, g.body)
	}
	if n := h.records("guest"); n != 1 {
		t.Errorf("records = %d, want 1", n)
	}
	if n := h.counter("stemcell_api_activations_total", "status", "success"); n != 1 {
		t.Errorf("activations settled = %v, want 1", n)
	}
	if c := h.srv.admit.namespaceCount("guest"); c != 0 {
		t.Errorf("guest in flight after the record = %d, want 0", c)
	}
}

// TestAbandonReleasesAdmission: activations the daemon gives up on at its
// shutdown give their admission back with their record.
func TestAbandonReleasesAdmission(t *testing.T) {
	h := newHarness(t, withLimits(2, 0))
	h.createHello()
	_, started := h.hold()
	blocking := make(chan reply, 1)
	go func() { blocking <- h.do("POST", invokeHello+"?blocking=true", guestAuth, "{}") }()
	<-started
	if r := h.do("POST", invokeHello, guestAuth, "{}"); r.status != 202 {
		t.Fatalf("non-blocking: %d %s", r.status, r.body)
	}
	if c := h.srv.admit.namespaceCount("guest"); c != 2 {
		t.Fatalf("in flight = %d, want 2", c)
	}
	h.srv.StopAccepting()
	h.srv.Abandon()
	if r := <-blocking; r.status != 500 && r.status != 502 {
		t.Errorf("abandoned blocking invoke: %d %s", r.status, r.body)
	}
	h.waitIdle()
	if c, n := h.srv.admit.namespaceCount("guest"), h.records("guest"); c != 0 || n != 2 {
		t.Errorf("after abandon: in flight %d, records %d; want 0 and 2", c, n)
	}
}
