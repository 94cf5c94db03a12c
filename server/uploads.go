package server

import (
	"context"
	"errors"
	"net/http"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/semaphore"
)

// largePut is the body size from which a finished PUT hands its memory back
// to the operating system: Go's scavenger would return it only over
// minutes, while a 45 MB PUT leaves some 100 MB of freed heap behind.
const largePut = 8 << 20

// uploadGate bounds the bytes of action PUT bodies being processed. A body
// costs about twice its size while it is decoded and copied into the
// store's pages, so eight 45 MB PUTs at once (which once peaked at 1.7 GB)
// must not all run at the same time. Waiting
// PUTs queue in arrival order (semaphore.Weighted is FIFO) rather than being
// refused: a client uploading an action has nothing better to do than wait,
// and a waiting PUT holds no memory, since its body is read only once it
// has its turn.
type uploadGate struct {
	once     sync.Once
	sem      *semaphore.Weighted
	capacity int64
	inFlight atomic.Int64 // bytes admitted and not yet released
	large    atomic.Int32 // large PUTs admitted and not yet released
}

// admitUpload waits until the body of r fits, or until the read timeout has
// passed since the request began, and returns the function that gives the
// room back. A body of unknown length is counted at the largest size
// allowed.
func (s *Server) admitUpload(r *http.Request, began time.Time) (release func(), err error) {
	g := &s.uploads
	g.once.Do(func() {
		g.capacity = s.scfg.PutBytesInFlight.Bytes()
		g.sem = semaphore.NewWeighted(g.capacity)
	})
	n := r.ContentLength
	if n < 0 {
		n = s.scfg.MaxBodySize.Bytes()
	}
	n = min(max(n, 1), g.capacity)
	ctx, cancel := context.WithDeadline(r.Context(), began.Add(s.scfg.ReadTimeout))
	defer cancel()
	if err := g.sem.Acquire(ctx, n); err != nil {
		waited := time.Since(began).Round(time.Millisecond)
		if errors.Is(r.Context().Err(), context.Canceled) {
			return nil, errorf(http.StatusServiceUnavailable, msgUploadGone, n, waited)
		}
		return nil, errorf(http.StatusServiceUnavailable, msgUploadBusy, n, waited, g.inFlight.Load(), g.capacity)
	}
	g.inFlight.Add(n)
	isLarge := n >= largePut
	if isLarge {
		g.large.Add(1)
	}
	return func() {
		g.inFlight.Add(-n)
		g.sem.Release(n)
		// The last large PUT out returns the heap it left; while others
		// run, their memory is still in use and a forced collection would
		// only cost them time.
		if isLarge && g.large.Add(-1) == 0 {
			debug.FreeOSMemory()
		}
	}, nil
}

// retryAfterUpload is the Retry-After of a PUT that found no room.
const retryAfterUpload = "5"
