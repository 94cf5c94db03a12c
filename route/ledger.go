package route

import "github.com/stemcell-io/stemcell/config"

// InFlight is what one front sent one invoker since a snapshot of it:
// memory the snapshot does not show yet. Without it a front would send a
// burst to the same invoker until its next snapshot, about a
// memory-sync-interval later. Each front keeps its own: fronts do not
// talk, and each invoker's snapshot soon shows what all of them sent.
//
// The functions on InFlight are pure: they return the new value.
type InFlight struct {
	// Incarnation and Revision name the invoker's snapshot the counts are
	// counted against (Invoker.Incarnation, Invoker.Revision).
	Incarnation int64
	Revision    int64
	Count       int
	Memory      config.ByteSize
}

// Ticket is one activation that a front sent: to which invoker, against
// which of its snapshots, and its memory. The front keeps it with the
// activation and gives it back to Answered.
type Ticket struct {
	Invoker     string
	Incarnation int64
	Revision    int64
	Memory      config.ByteSize
}

func (f InFlight) counts(inv *Invoker) bool {
	return f.Incarnation == inv.Incarnation && f.Revision == inv.Revision
}

// Against is the memory f adds to inv's snapshot: f.Memory if f counts
// against that very snapshot, else 0 (a newer snapshot already shows what
// was sent before it).
func (f InFlight) Against(inv Invoker) config.ByteSize {
	if f.counts(&inv) {
		return f.Memory
	}
	return 0
}

// Sent returns f with one more activation of mem sent to inv, counted
// against inv's current snapshot (starting afresh if f counted against an
// older one), and the ticket for Answered.
func (f InFlight) Sent(inv Invoker, mem config.ByteSize) (InFlight, Ticket) {
	if !f.counts(&inv) {
		f = InFlight{Incarnation: inv.Incarnation, Revision: inv.Revision}
	}
	f.Count++
	f.Memory += mem
	return f, Ticket{Invoker: inv.ID, Incarnation: inv.Incarnation, Revision: inv.Revision, Memory: mem}
}

// Observed returns f once the front has inv as the invoker's newest
// snapshot: unchanged if it is the snapshot f counts against, else empty.
// An activation that reached the invoker only after it took that snapshot
// is forgotten until the next one shows it: the estimate is a hint, and
// the invoker's own admission has the last word.
func (f InFlight) Observed(inv Invoker) InFlight {
	if f.counts(&inv) {
		return f
	}
	return InFlight{Incarnation: inv.Incarnation, Revision: inv.Revision}
}

// Answered returns f without the activation of t, which was answered, or
// rejected before the invoker accepted it. If a snapshot came in between,
// f already forgot t (the snapshot shows its effect), and f is returned
// as it is: subtracting again would count the memory as free twice.
func (f InFlight) Answered(t Ticket) InFlight {
	if f.Count == 0 || t.Incarnation != f.Incarnation || t.Revision != f.Revision {
		return f
	}
	f.Count--
	f.Memory = max(f.Memory-t.Memory, 0)
	if f.Count == 0 {
		f.Memory = 0
	}
	return f
}

// Ledger is one front's InFlight per invoker ID. It belongs to the one
// goroutine that owns the front's view; its methods apply the pure
// functions of InFlight to the map. A nil Ledger reads as empty; Sent
// needs one made with Ledger{} or make.
type Ledger map[string]InFlight

// InFlight is the memory this front sent inv since inv's snapshot.
func (l Ledger) InFlight(inv Invoker) config.ByteSize {
	return l.inFlight(&inv)
}

func (l Ledger) inFlight(inv *Invoker) config.ByteSize {
	if len(l) == 0 {
		return 0
	}
	if f := l[inv.ID]; f.counts(inv) {
		return f.Memory
	}
	return 0
}

// Sent records an activation of mem sent to inv and returns its ticket.
func (l Ledger) Sent(inv Invoker, mem config.ByteSize) Ticket {
	f, t := l[inv.ID].Sent(inv, mem)
	l[inv.ID] = f
	return t
}

// Observed takes a new snapshot of an invoker into account: what was sent
// before it is dropped.
func (l Ledger) Observed(inv Invoker) {
	l.update(inv.ID, func(f InFlight) InFlight { return f.Observed(inv) })
}

// Answered records that the activation of t was answered or rejected.
func (l Ledger) Answered(t Ticket) {
	l.update(t.Invoker, func(f InFlight) InFlight { return f.Answered(t) })
}

// update applies change to id's entry, if it has one, and drops the entry
// once nothing of it is in flight.
func (l Ledger) update(id string, change func(InFlight) InFlight) {
	f, ok := l[id]
	if !ok {
		return
	}
	if f = change(f); f.Count == 0 {
		delete(l, id)
		return
	}
	l[id] = f
}

// Forget drops an invoker that left the view.
func (l Ledger) Forget(id string) { delete(l, id) }
