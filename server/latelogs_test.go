package server

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stemcell-io/stemcell/actors"
)

// A blocking invoke is answered as soon as the result is known; the logs
// that follow go into the stored record, which reads wait for.
func TestBlockingAnswerComesBeforeLogs(t *testing.T) {
	h := newHarness(t)
	h.createHello()
	late := make(chan []string, 1)
	var asked actors.Activation
	h.inv.run = func(_ context.Context, a actors.Activation) (actors.Result, error) {
		asked = a
		res := succeed(a)
		res.Logs, res.LateLogs = nil, late
		return res, nil
	}
	r := h.do("POST", "/api/v1/namespaces/_/actions/hello?blocking=true", guestAuth, `{"name":"Ada"}`)
	if r.status != 200 {
		t.Fatalf("blocking invoke: %d %s", r.status, r.body)
	}
	if !asked.LogsAfterResult {
		t.Fatal("a blocking invoke did not ask the pool for its result before its logs")
	}
	var rec struct {
		ActivationID string   `json:"activationId"`
		Logs         []string `json:"logs"`
	}
	if err := json.Unmarshal(r.body, &rec); err != nil || rec.Logs == nil || len(rec.Logs) != 0 {
		t.Fatalf("blocking answer %s: want an empty logs array (%v)", r.body, err)
	}
	logs := make(chan reply, 1)
	go func() {
		logs <- h.do("GET", "/api/v1/namespaces/_/activations/"+rec.ActivationID+"/logs", guestAuth, "")
	}()
	select {
	case g := <-logs:
		t.Fatalf("logs read before they came: %d %s", g.status, g.body)
	case <-time.After(50 * time.Millisecond):
	}
	late <- []string{"2024-06-01T12:00:00.5Z stdout: late"}
	if g := <-logs; g.status != 200 || strings.TrimSpace(string(g.body)) != `{"logs":["2024-06-01T12:00:00.5Z stdout: late"]}` {
		t.Fatalf("logs after they came: %d %s", g.status, g.body)
	}
}

// Logs known with the result (a first run, through /init) are stored too,
// and the blocking answer has none either way, as in OpenWhisk.
func TestBlockingAnswerHasNoLogs(t *testing.T) {
	h := newHarness(t)
	h.createHello()
	r := h.do("POST", "/api/v1/namespaces/_/actions/hello?blocking=true", guestAuth, `{"name":"Ada"}`)
	var rec struct {
		ActivationID string   `json:"activationId"`
		Logs         []string `json:"logs"`
	}
	if err := json.Unmarshal(r.body, &rec); err != nil || r.status != 200 || rec.Logs == nil || len(rec.Logs) != 0 {
		t.Fatalf("blocking answer %d %s: want an empty logs array (%v)", r.status, r.body, err)
	}
	g := h.do("GET", "/api/v1/namespaces/_/activations/"+rec.ActivationID+"/logs", guestAuth, "")
	if g.status != 200 || !json.Valid(g.body) || !strings.Contains(string(g.body), "stdout: hi") {
		t.Fatalf("stored logs: %d %s", g.status, g.body)
	}
}
