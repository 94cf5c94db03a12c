package server

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/stemcell-io/stemcell/actors"
	"github.com/stemcell-io/stemcell/factory"
	"github.com/stemcell-io/stemcell/store"
)

// TestStartKindAnnotation: the record names how the container came to be,
// next to OpenWhisk's annotations, and only when one was placed.
func TestStartKindAnnotation(t *testing.T) {
	h := newHarness(t)
	h.createHello()
	tests := []struct {
		name string
		kind actors.StartKind
		err  error
		want string // "" = no annotation
	}{
		{name: "cold", kind: actors.StartCold, want: `"cold"`},
		{name: "prewarmed", kind: actors.StartPrewarmed, want: `"prewarmed"`},
		{name: "warm", kind: actors.StartWarm, want: `"warm"`},
		{name: "recreated", kind: actors.StartRecreated, want: `"recreated"`},
		{name: "no container placed", err: errors.New("buffer full")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.inv.mu.Lock()
			h.inv.run = func(_ context.Context, a actors.Activation) (actors.Result, error) {
				res := succeed(a)
				res.StartKind = tt.kind
				if tt.kind != actors.StartCold && tt.kind != actors.StartPrewarmed {
					res.InitTime = 0
				}
				return res, tt.err
			}
			h.inv.mu.Unlock()
			r := h.do("POST", "/api/v1/namespaces/_/actions/hello?blocking=true", guestAuth, "{}")
			var rec store.Activation
			if err := json.Unmarshal(r.body, &rec); err != nil {
				t.Fatalf("%d %s: %v", r.status, r.body, err)
			}
			got, keys := "", map[string]int{}
			for _, kv := range rec.Annotations {
				keys[kv.Key]++
				if kv.Key == "startKind" {
					got = string(kv.Value)
				}
			}
			if got != tt.want {
				t.Errorf("startKind = %s, want %s (annotations %+v)", got, tt.want, rec.Annotations)
			}
			for _, k := range []string{"path", "kind", "limits", "waitTime", "timeout"} {
				if keys[k] != 1 {
					t.Errorf("annotation %s appears %d times, want once", k, keys[k])
				}
			}
			if tt.err == nil && rec.Response.Status != store.StatusName(int(factory.StatusSuccess)) {
				t.Errorf("status %q", rec.Response.Status)
			}
		})
	}
}
