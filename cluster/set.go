package cluster

import (
	"slices"
	"strings"

	"github.com/stemcell-io/stemcell/route"
)

// Set is one immutable state of the view: the invokers registered as of
// etcd revision Revision. The view replaces it whole on every change
// (copy-on-write), so a reader holds a consistent state without locks.
type Set struct {
	revision int64
	byID     map[string]int
	entries  []Entry         // by ID in byte order
	invokers []route.Invoker // entries mapped for route, same order
	changed  chan struct{}   // closed when a newer Set replaces this one
}

func newSet(revision int64, byID map[string]Entry) *Set {
	s := &Set{
		revision: revision,
		byID:     make(map[string]int, len(byID)),
		entries:  make([]Entry, 0, len(byID)),
		changed:  make(chan struct{}),
	}
	for _, e := range byID {
		s.entries = append(s.entries, e)
	}
	slices.SortFunc(s.entries, func(a, b Entry) int { return strings.Compare(a.ID, b.ID) })
	s.invokers = make([]route.Invoker, len(s.entries))
	for i := range s.entries {
		s.byID[s.entries[i].ID] = i
		s.invokers[i] = s.entries[i].Invoker()
	}
	return s
}

// Revision is the etcd revision the set reflects.
func (s *Set) Revision() int64 { return s.revision }

// Len is the number of invokers.
func (s *Set) Len() int { return len(s.entries) }

// Get returns invoker id's entry.
func (s *Set) Get(id string) (Entry, bool) {
	i, ok := s.byID[id]
	if !ok {
		return Entry{}, false
	}
	return s.entries[i], true
}

// Entries returns a copy of the entries, by ID.
func (s *Set) Entries() []Entry { return slices.Clone(s.entries) }

// Invokers returns the entries as route sees them, by ID, for route.Place.
// The slice is shared by every reader of this Set: read it, do not modify
// it (route only reads). It is built once per Set, not per call, because a
// front places every activation on it.
func (s *Set) Invokers() []route.Invoker { return s.invokers }

// Changed is closed when the view has a newer Set.
func (s *Set) Changed() <-chan struct{} { return s.changed }

// entryMap copies the entries into a map, the start of the next Set.
func (s *Set) entryMap() map[string]Entry {
	m := make(map[string]Entry, len(s.entries)+1)
	for _, e := range s.entries {
		m[e.ID] = e
	}
	return m
}
