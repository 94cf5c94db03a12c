package server

import "github.com/stemcell-io/stemcell/store"

// Actions is where the server keeps action documents: the daemon's own
// store (*store.Store) when it stands alone, or etcd in cluster mode, where
// fronts and other invokers write too. Errors wrap store.ErrNotFound for a
// missing action; PutAction's fn may return store.ErrExists (overwrite=false
// on an existing action) or an *apiError, which PutAction passes back
// wrapped.
type Actions interface {
	GetAction(ns, path string) (*store.Action, error)
	// PutAction stores what fn returns given the current document (nil
	// when there is none), atomically: a concurrent update makes it call
	// fn again on the newer document, so fn must be a pure function of
	// old.
	PutAction(ns, path string, fn func(old *store.Action) (*store.Action, error)) (*store.Action, error)
	DeleteAction(ns, path string) (*store.Action, error)
	ListActions(ns, pkg string, skip, limit int) (list []store.Action, total int, err error)
}

// ActionChanges is implemented by an Actions that other processes write
// to. The server prepares each action once per version and keeps it; it
// calls OnChange once, at New, and from then on forgets its prepared copy
// of every action the store reports changed (created, updated or deleted
// anywhere), so an invoke after the report runs the new version.
type ActionChanges interface {
	OnChange(func(ns, path string))
}
