package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

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

// follow keeps the mirror: list, then watch from the list's revision; a
// broken watch resumes after the last event seen, a compacted one lists
// again.
func (a *Actions) follow() {
	defer a.wg.Done()
	backoff := minBackoff
	var rev int64 // 0: list first
	for a.ctx.Err() == nil {
		if rev == 0 {
			r, err := a.list()
			if err != nil {
				a.log.Warn().Err(err).Msg("listing actions failed; retrying")
				if !a.sleep(backoff) {
					return
				}
				backoff = min(2*backoff, maxBackoff)
				continue
			}
			rev = r
		}
		next, progressed := a.watch(rev)
		if progressed {
			backoff = minBackoff
		}
		if next != 0 && a.ctx.Err() == nil {
			a.count(func(s *ActionsStatus) { s.Resumes++ })
			if !progressed { // a watch that fails at once must not spin
				if !a.sleep(backoff) {
					return
				}
				backoff = min(2*backoff, maxBackoff)
			}
		}
		rev = next
	}
}

// list reads every document into the mirror and returns its revision.
func (a *Actions) list() (int64, error) {
	ctx, cancel := a.callCtx()
	defer cancel()
	resp, err := a.cli.Get(ctx, a.docsPrefix, clientv3.WithPrefix())
	a.count(func(s *ActionsStatus) { s.Lists++ })
	if err != nil {
		return 0, a.etcdErr("listing "+a.docsPrefix, err)
	}
	docs := make(map[string]docEntry, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		k := strings.TrimPrefix(string(kv.Key), a.docsPrefix)
		e, err := a.decodeRecord(k, kv.Value, kv.ModRevision)
		if err != nil {
			a.log.Warn().Err(err).Msg("skipping a malformed action record")
			continue
		}
		docs[k] = e
	}
	for _, k := range a.mirror.replace(resp.Header.Revision, docs) {
		a.notifyKey(k)
	}
	a.readyOnce.Do(func() { close(a.ready) })
	return resp.Header.Revision, nil
}

// watch applies the changes after rev. It returns the revision to resume
// from (0 to list again) and whether anything arrived.
func (a *Actions) watch(rev int64) (next int64, progressed bool) {
	if a.hooks.beforeWatch != nil {
		a.hooks.beforeWatch(rev)
	}
	ctx, cancel := context.WithCancel(clientv3.WithRequireLeader(a.ctx))
	defer cancel()
	wch := a.cli.Watch(ctx, a.docsPrefix, clientv3.WithPrefix(), clientv3.WithRev(rev+1))
	for {
		select {
		case <-a.ctx.Done():
			return rev, progressed
		case <-a.interrupt:
			return rev, progressed
		case resp, ok := <-wch:
			switch {
			case !ok:
				return rev, progressed
			case resp.CompactRevision != 0:
				a.log.Info().Int64("revision", rev).Int64("compacted", resp.CompactRevision).Msg("watch revision compacted: listing actions again")
				a.count(func(s *ActionsStatus) { s.Compacted++ })
				return 0, progressed
			case resp.Err() != nil:
				a.log.Warn().Err(resp.Err()).Int64("revision", rev).Msg("actions watch broken: resuming from the last revision seen")
				return rev, progressed
			case len(resp.Events) > 0:
				rev = a.apply(resp.Events)
				progressed = true
			}
		}
	}
}

// apply puts a watch response's events into the mirror, then reports each
// changed action (after, so a reader told of a change finds it).
func (a *Actions) apply(events []*clientv3.Event) int64 {
	keys := make([]string, 0, len(events))
	a.mirror.mu.Lock()
	rev := a.mirror.rev
	for _, ev := range events {
		rev = max(rev, ev.Kv.ModRevision)
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
	return rev
}

// sleep waits d or until Close; false when closed.
func (a *Actions) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-a.ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
