package docker

import (
	"sync"
	"time"
)

// ownedContainers are the containers this factory created and has not
// removed, with when each became known. The watcher reports changes only
// for these, and treats any other container with this invoker's marks as
// an orphan.
type ownedContainers struct {
	mu    sync.Mutex
	since map[string]time.Time
}

func (o *ownedContainers) add(id string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.since == nil {
		o.since = map[string]time.Time{}
	}
	o.since[id] = time.Now()
}

func (o *ownedContainers) remove(id string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	delete(o.since, id)
}

// knownSince says when id became known, and whether it is known.
func (o *ownedContainers) knownSince(id string) (time.Time, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	t, ok := o.since[id]
	return t, ok
}

// snapshot copies the set, for a reconciliation pass.
func (o *ownedContainers) snapshot() map[string]time.Time {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make(map[string]time.Time, len(o.since))
	for id, t := range o.since {
		out[id] = t
	}
	return out
}
