package cluster

import "time"

// Status is the registration as the registry knows it. The invoker keeps
// serving whatever it says: etcd being unreachable or the lease being lost
// only takes the invoker out of the fronts' views.
type Status struct {
	// Registered: the registry holds a lease and the key is its own.
	Registered bool
	// Fenced: the lease is gone, or may be (no renewal acknowledged for
	// half the TTL). A fenced invoker may be missing from the views.
	Fenced      bool
	FencedSince time.Time
	// Incarnation and Lease of the current (or, while not registered,
	// the last) registration.
	Incarnation int64
	Lease       int64
	LastRenewal time.Time
	// Registrations counts successful registrations (1 + re-registrations),
	// LeaseLosses the leases given up as lost, Published the snapshot
	// writes after registration.
	Registrations int
	LeaseLosses   int
	Published     int
	// Err is the last failure (an etcd error, a lost lease, a refused
	// re-registration); nil after the next success.
	Err error
}

// Status returns the registration's current status. Fenced is computed
// at the call from the last renewal, so it is right even while the
// registry's goroutine waits on a slow etcd call.
func (r *Registry) Status() Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.status
	if fenceAt := s.LastRenewal.Add(r.opts.TTL / 2); s.Registered && !s.Fenced && !time.Now().Before(fenceAt) {
		s.Fenced, s.FencedSince = true, fenceAt
	}
	return s
}

// StatusChanges delivers the status after each change. It holds only the
// latest: a slow reader skips intermediate states (the counters in Status
// tell what happened in between).
func (r *Registry) StatusChanges() <-chan Status { return r.statusC }

// stored is the status as the loop last set it.
func (r *Registry) stored() Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.status
}

// setStatus applies f and offers the result on statusC, replacing an
// unread older status.
func (r *Registry) setStatus(f func(*Status)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f(&r.status)
	s := r.status
	select {
	case <-r.statusC:
	default:
	}
	r.statusC <- s // the only sender, under mu, after emptying: never blocks
}
