package server

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Refusal reasons, the label of stemcell_api_admission_rejected_total.
const (
	refusedConcurrent = "concurrent"
	refusedPerMinute  = "per_minute"
	refusedBufferFull = "buffer_full"
)

// admission is OpenWhisk's controller throttles (reference §7), per
// namespace: limits.actions.invokes.per-minute counts the invokes of the
// current wall-clock minute, the refused ones too, and allows the one that
// makes the count reach the limit; limits.actions.invokes.concurrent counts
// the activations accepted and not finished (running or waiting in the
// pool's buffer) and allows a new one while the count is below the limit.
// The per-minute check comes first, as in OpenWhisk, so an invoke the
// concurrency limit refuses still counts for the minute. A limit of 0 is
// no limit. What is admitted waits in the pool's buffer: a burst is
// queued, not refused.
type admission struct {
	concurrent int
	perMinute  int
	now        func() time.Time

	mu         sync.Mutex
	namespaces map[string]*namespaceLoad
	swept      int64         // the Unix minute of the last sweep
	inFlight   int           // over all namespaces
	idle       chan struct{} // closed when inFlight drops to 0; nil while 0
}

// namespaceLoad is one namespace's counts. It is dropped once nothing of
// the namespace is in flight and its minute is over (at its last release,
// or by the sweep of the next minute), so the map holds only namespaces
// with recent work.
type namespaceLoad struct {
	inFlight int
	minute   int64 // Unix minute that count belongs to
	count    int   // invokes checked in that minute
}

func newAdmission(concurrent, perMinute int, now func() time.Time) *admission {
	return &admission{concurrent: concurrent, perMinute: perMinute, now: now, namespaces: map[string]*namespaceLoad{}}
}

// ticket is one admitted activation's place in its namespace's count.
// release gives it back; only the first call counts, so every path that
// ends an activation may call it without counting it twice.
type ticket struct {
	a        *admission
	ns       string
	released atomic.Bool
}

// acquire admits one invoke of ns, or refuses it with OpenWhisk's 429 and
// the reason for the metrics.
func (a *admission) acquire(ns string) (*ticket, *apiError, string) {
	minute := a.now().Unix() / 60
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.swept != minute {
		a.sweep(minute)
	}
	l := a.namespaces[ns]
	if l == nil {
		l = &namespaceLoad{minute: minute}
		a.namespaces[ns] = l
	}
	if l.minute != minute {
		l.minute, l.count = minute, 0
	}
	l.count++
	if a.perMinute > 0 && l.count > a.perMinute {
		return nil, tooMany(msgTooManyMinute, l.count, a.perMinute), refusedPerMinute
	}
	if a.concurrent > 0 && l.inFlight >= a.concurrent {
		return nil, tooMany(msgTooManyFlight, l.inFlight, a.concurrent), refusedConcurrent
	}
	l.inFlight++
	a.inFlight++
	if a.idle == nil {
		a.idle = make(chan struct{})
	}
	return &ticket{a: a, ns: ns}, nil, ""
}

// sweep drops the namespaces with nothing in flight and an earlier minute.
func (a *admission) sweep(minute int64) {
	a.swept = minute
	for ns, l := range a.namespaces {
		if l.inFlight == 0 && l.minute != minute {
			delete(a.namespaces, ns)
		}
	}
}

func tooMany(format string, count, allowed int) *apiError {
	return errorf(http.StatusTooManyRequests, format, count, allowed)
}

func (t *ticket) release() {
	if !t.released.CompareAndSwap(false, true) {
		return
	}
	a := t.a
	minute := a.now().Unix() / 60
	a.mu.Lock()
	defer a.mu.Unlock()
	if l := a.namespaces[t.ns]; l != nil {
		l.inFlight--
		if l.inFlight == 0 && l.minute != minute {
			delete(a.namespaces, t.ns)
		}
	}
	a.inFlight--
	if a.inFlight == 0 && a.idle != nil {
		close(a.idle)
		a.idle = nil
	}
}

// count is the activations in flight over all namespaces.
func (a *admission) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.inFlight
}

// namespaceCount is ns's activations in flight.
func (a *admission) namespaceCount(ns string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	if l := a.namespaces[ns]; l != nil {
		return l.inFlight
	}
	return 0
}

// wait returns nil once nothing is in flight, or ctx's error.
func (a *admission) wait(ctx context.Context) error {
	a.mu.Lock()
	ch := a.idle
	a.mu.Unlock()
	if ch == nil {
		return nil
	}
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
