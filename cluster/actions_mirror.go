package cluster

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/stemcell-io/stemcell/store"
)

// actionRecord is the value of actions/<ns>/<path>: the document without
// its code, and the code's digest, size and part count (nil when the
// action has no code, as a blackbox action without one).
type actionRecord struct {
	Action store.Action `json:"action"`
	Code   *codeRef     `json:"code,omitempty"`
}

// docEntry is a document as the mirror holds it.
type docEntry struct {
	key string // <ns>/<path>
	rec actionRecord
	rev int64 // the key's mod revision
}

// mirror holds every action document of the cluster, without code, as
// the watch reports them, plus what this process wrote itself. Entries
// only move forward in revision: an event older than what a local write
// already put in place is ignored, and a deletion leaves a tombstone
// until the watch has passed its revision, so a late event cannot bring
// a deleted action back.
type mirror struct {
	mu     sync.RWMutex
	docs   map[string]docEntry // by "<ns>/<path>"
	gone   map[string]int64    // deleted at revision, until the watch passes it
	rev    int64               // the revision the watch has applied
	listed bool
}

func (m *mirror) get(key string) (docEntry, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	e, ok := m.docs[key]
	return e, ok
}

// set puts e at key unless the mirror knows a newer state of key.
func (m *mirror) set(key string, e docEntry) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.setLocked(key, e)
}

func (m *mirror) setLocked(key string, e docEntry) {
	if cur, ok := m.docs[key]; ok && cur.rev >= e.rev {
		return
	}
	if at, ok := m.gone[key]; ok && at >= e.rev {
		return
	}
	delete(m.gone, key)
	m.docs[key] = e
}

// remove deletes key as of revision rev unless the mirror knows a newer
// state of it.
func (m *mirror) remove(key string, rev int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.removeLocked(key, rev)
}

func (m *mirror) removeLocked(key string, rev int64) {
	if cur, ok := m.docs[key]; ok && cur.rev > rev {
		return
	}
	delete(m.docs, key)
	if rev > m.rev {
		m.gone[key] = max(m.gone[key], rev)
	}
}

// advance records that the watch has applied every change up to rev:
// tombstones up to it are no longer needed.
func (m *mirror) advanceLocked(rev int64) {
	m.rev = max(m.rev, rev)
	for k, at := range m.gone {
		if at <= m.rev {
			delete(m.gone, k)
		}
	}
}

// replace installs a full list taken at revision rev, keeping what local
// writes made newer than it, and returns the keys whose state changed.
func (m *mirror) replace(rev int64, docs map[string]docEntry) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var changed []string
	for k, e := range m.docs {
		if e.rev > rev {
			docs[k] = e // a local write the list predates
			continue
		}
		if n, ok := docs[k]; !ok || n.rev != e.rev {
			changed = append(changed, k)
		}
	}
	for k, e := range docs {
		if at, ok := m.gone[k]; ok && at > e.rev {
			delete(docs, k) // a local delete the list predates
			continue
		}
		if _, ok := m.docs[k]; !ok {
			changed = append(changed, k)
		}
	}
	m.docs = docs
	m.rev = 0
	m.advanceLocked(rev)
	m.listed = true
	return changed
}

// entries returns the documents of namespace ns whose path is in package
// pkg ("" for every path).
func (m *mirror) entries(ns, pkg string) []docEntry {
	m.mu.RLock()
	defer m.mu.RUnlock()
	prefix := ns + "/"
	var out []docEntry
	for k, e := range m.docs {
		if path, ok := strings.CutPrefix(k, prefix); ok && inPackage(path, pkg) {
			out = append(out, e)
		}
	}
	return out
}

func (m *mirror) state() (listed bool, rev int64) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.listed, m.rev
}

// inPackage reports whether path ("name" or "pkg/name") is listed under
// pkg: every path when pkg is "", else pkg's direct actions.
func inPackage(path, pkg string) bool {
	if pkg == "" {
		return true
	}
	name, ok := strings.CutPrefix(path, pkg+"/")
	return ok && !strings.Contains(name, "/")
}

// decodeRecord decodes the value of a.docsPrefix+key.
func (a *Actions) decodeRecord(key string, v []byte, rev int64) (docEntry, error) {
	var r actionRecord
	if err := json.Unmarshal(v, &r); err != nil {
		return docEntry{}, fmt.Errorf("cluster: action record %s%s: %w", a.docsPrefix, key, err)
	}
	r.Action.Exec.Code = nil
	return docEntry{key: key, rec: r, rev: rev}, nil
}

// applyList installs a full list of the documents, taken at rev, in the
// mirror, then reports each action whose state changed.
func (a *Actions) applyList(rev int64, kvs []*mvccpb.KeyValue) {
	docs := make(map[string]docEntry, len(kvs))
	for _, kv := range kvs {
		k := strings.TrimPrefix(string(kv.Key), a.docsPrefix)
		e, err := a.decodeRecord(k, kv.Value, kv.ModRevision)
		if err != nil {
			a.log.Warn().Err(err).Msg("skipping a malformed action record")
			continue
		}
		docs[k] = e
	}
	for _, k := range a.mirror.replace(rev, docs) {
		a.notifyKey(k)
	}
}

// applyEvents puts a watch response's events into the mirror, which is
// then at rev, and reports each changed action (after, so a reader told
// of a change finds it).
func (a *Actions) applyEvents(rev int64, events []*clientv3.Event) {
	keys := make([]string, 0, len(events))
	a.mirror.mu.Lock()
	for _, ev := range events {
		k, ok := strings.CutPrefix(string(ev.Kv.Key), a.docsPrefix)
		if !ok {
			continue
		}
		keys = append(keys, k)
		if ev.Type == clientv3.EventTypeDelete {
			a.mirror.removeLocked(k, ev.Kv.ModRevision)
			continue
		}
		e, err := a.decodeRecord(k, ev.Kv.Value, ev.Kv.ModRevision)
		if err != nil {
			a.log.Warn().Err(err).Msg("dropping a malformed action record")
			a.mirror.removeLocked(k, ev.Kv.ModRevision)
			continue
		}
		a.mirror.setLocked(k, e)
	}
	a.mirror.advanceLocked(rev)
	a.mirror.mu.Unlock()
	for _, k := range keys {
		a.notifyKey(k)
	}
}
