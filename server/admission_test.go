package server

import (
	"testing"
	"time"
)

// admissionStep is one event of TestAdmissionCounts: an invoke of ns (want
// "" to be admitted, or its 429 message), the release of the ticket of the
// release-th admitted invoke (counting from 1), or the clock set to at.
type admissionStep struct {
	ns      string
	want    string
	release int
	at      string // "15:04:05"
	repeat  int    // the invoke this many times (0: once)
}

func TestAdmissionCounts(t *testing.T) {
	const (
		flight = "Too many concurrent requests in flight "
		minute = "Too many requests in the last minute "
	)
	tests := []struct {
		name                  string
		concurrent, perMinute int
		steps                 []admissionStep
	}{
		{"concurrent: the limit is reached, then refused with count = allowed", 2, 0, []admissionStep{
			{ns: "a"}, {ns: "a"}, {ns: "a", want: flight + "(count: 2, allowed: 2)."},
			{release: 1}, {ns: "a"}, {ns: "a", want: flight + "(count: 2, allowed: 2)."},
		}},
		{"per minute: the new invoke is counted, refused ones too", 0, 2, []admissionStep{
			{ns: "a"}, {ns: "a"}, {ns: "a", want: minute + "(count: 3, allowed: 2)."},
			{ns: "a", want: minute + "(count: 4, allowed: 2)."},
		}},
		{"per minute: releases give nothing back within the minute", 0, 1, []admissionStep{
			{ns: "a"}, {release: 1}, {ns: "a", want: minute + "(count: 2, allowed: 1)."},
		}},
		{"per minute: the bucket is the wall-clock minute, not a sliding window", 0, 2, []admissionStep{
			{at: "12:00:59"}, {ns: "a"}, {ns: "a"}, {ns: "a", want: minute + "(count: 3, allowed: 2)."},
			{at: "12:01:00"}, {ns: "a"}, {ns: "a"}, {ns: "a", want: minute + "(count: 3, allowed: 2)."},
			{at: "12:01:59"}, {ns: "a", want: minute + "(count: 4, allowed: 2)."},
		}},
		{"per minute is checked first; a concurrency refusal counts for the minute", 1, 2, []admissionStep{
			{ns: "a"}, {ns: "a", want: flight + "(count: 1, allowed: 1)."}, {ns: "a", want: minute + "(count: 3, allowed: 2)."},
		}},
		{"namespaces are counted apart", 1, 2, []admissionStep{
			{ns: "a"}, {ns: "b"}, {ns: "a", want: flight + "(count: 1, allowed: 1)."},
			{ns: "b", want: flight + "(count: 1, allowed: 1)."}, {release: 2}, {ns: "b", want: minute + "(count: 3, allowed: 2)."},
			{ns: "c"},
		}},
		{"0 is no limit", 0, 0, []admissionStep{{ns: "a", repeat: 100000}}},
		{"a ticket released twice counts once", 1, 0, []admissionStep{
			{ns: "a"}, {release: 1}, {release: 1}, {ns: "a"}, {ns: "a", want: flight + "(count: 1, allowed: 1)."},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)
			a := newAdmission(tt.concurrent, tt.perMinute, func() time.Time { return now })
			var tickets []*ticket
			for i, s := range tt.steps {
				switch {
				case s.at != "":
					clock, err := time.Parse("15:04:05", s.at)
					if err != nil {
						t.Fatal(err)
					}
					now = time.Date(2024, 6, 1, clock.Hour(), clock.Minute(), clock.Second(), 0, time.UTC)
				case s.release > 0:
					tickets[s.release-1].release()
				default:
					for range max(s.repeat, 1) {
						tk, refused, _ := a.acquire(s.ns)
						got := ""
						if refused != nil {
							got = refused.msg
							if refused.status != 429 || tk != nil {
								t.Fatalf("step %d: refusal %d with ticket %v", i, refused.status, tk)
							}
						} else {
							tickets = append(tickets, tk)
						}
						if got != s.want {
							t.Fatalf("step %d (invoke of %s): got %q, want %q", i, s.ns, got, s.want)
						}
					}
				}
			}
			for _, tk := range tickets {
				tk.release()
			}
			if n := a.count(); n != 0 {
				t.Errorf("in flight after every release = %d, want 0", n)
			}
		})
	}
}

// TestAdmissionForgetsIdleNamespaces: the per-namespace state does not grow
// with every namespace ever seen.
func TestAdmissionForgetsIdleNamespaces(t *testing.T) {
	now := time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)
	a := newAdmission(5, 5, func() time.Time { return now })
	held, _, _ := a.acquire("busy")
	for _, ns := range []string{"a", "b", "c"} {
		tk, refused, _ := a.acquire(ns)
		if refused != nil {
			t.Fatal(refused)
		}
		tk.release()
	}
	now = now.Add(time.Minute)
	if _, refused, _ := a.acquire("d"); refused != nil {
		t.Fatal(refused)
	}
	a.mu.Lock()
	n := len(a.namespaces)
	a.mu.Unlock()
	if n != 2 { // busy (in flight) and d (this minute)
		t.Errorf("namespaces kept = %d, want 2 (the one in flight and the one of this minute)", n)
	}
	if got := a.namespaceCount("busy"); got != 1 {
		t.Errorf("busy in flight = %d, want 1", got)
	}
	held.release()
}
