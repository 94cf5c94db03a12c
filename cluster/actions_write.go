package cluster

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"
	"unsafe"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/stemcell-io/stemcell/store"
)

// ErrContention is wrapped by a write that lost maxAttempts
// compare-and-swap rounds in a row to other writers of the same action.
var ErrContention = errors.New("too many concurrent updates")

// PutAction stores what fn returns given the current document (nil when
// there is none) by compare-and-swap on the document's mod revision: when
// another process wrote the action in between, fn is called again on the
// newer document, so no update is lost and create-if-absent
// (overwrite=false) has one winner. fn's error (store.ErrExists, an API
// error) comes back wrapped.
func (a *Actions) PutAction(ns, path string, fn func(old *store.Action) (*store.Action, error)) (*store.Action, error) {
	if err := checkAction(ns, path); err != nil {
		return nil, err
	}
	out, err := a.put(ns, path, fn)
	if err != nil {
		return nil, fmt.Errorf("cluster: put action %s/%s: %w", ns, path, err)
	}
	return out, nil
}

func (a *Actions) put(ns, path string, fn func(old *store.Action) (*store.Action, error)) (*store.Action, error) {
	key := ns + "/" + path
	docKey := a.docsPrefix + key
	cur, found, err := a.readDoc(key)
	if err != nil {
		return nil, err
	}
	var digests digestMemo
	var written []string // codes this call wrote, collected unless committed
	defer func() {
		for _, d := range written {
			a.collect(d)
		}
	}()
	for attempt := 0; attempt < maxAttempts; attempt++ {
		var old *store.Action
		var oldRef *codeRef
		var rev int64
		if found {
			if old, err = a.withCode(cur); errors.Is(err, errCodeMissing) {
				if cur, found, err = a.readDoc(key); err != nil {
					return nil, err
				}
				continue
			} else if err != nil {
				return nil, err
			}
			oldRef, rev = cur.rec.Code, cur.rev
		}
		next, err := fn(old)
		if err != nil {
			return nil, err
		}
		if next == nil {
			return nil, errors.New("the update returned no document")
		}
		rec := actionRecord{Action: *next}
		rec.Action.Exec.Code = nil
		cmps := []clientv3.Cmp{clientv3.Compare(clientv3.ModRevision(docKey), "=", rev)}
		if next.Exec.Code != nil {
			code := *next.Exec.Code
			ref := digests.of(code)
			if ref.Parts > MaxCodeParts {
				return nil, fmt.Errorf("%w: code of %d bytes is too large: at most %d bytes in cluster mode", ErrInvalid, ref.Size, MaxCodeSize)
			}
			if err := a.ensureCode(ref, code); err != nil {
				return nil, err
			}
			written = append(written, ref.Digest)
			rec.Code = &ref
			cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(a.codeMetaKey(ref.Digest)), ">", 0))
		}
		val, err := json.Marshal(rec)
		if err != nil {
			return nil, fmt.Errorf("encode the document: %w", err)
		}
		ops := []clientv3.Op{clientv3.OpPut(docKey, string(val))}
		if rec.Code != nil {
			ops = append(ops, clientv3.OpPut(a.refKey(rec.Code.Digest, ns, path), ""))
		}
		if oldRef != nil && (rec.Code == nil || oldRef.Digest != rec.Code.Digest) {
			ops = append(ops, clientv3.OpDelete(a.refKey(oldRef.Digest, ns, path)))
		}
		if a.hooks.beforeCommit != nil && rec.Code != nil {
			a.hooks.beforeCommit(rec.Code.Digest)
		}
		ctx, cancel := a.callCtx()
		tr, err := a.cli.Txn(ctx).If(cmps...).Then(ops...).Else(clientv3.OpGet(docKey)).Commit()
		cancel()
		if err != nil {
			return nil, a.etcdErr("writing "+docKey, err)
		}
		if !tr.Succeeded {
			// Another writer got in first, or the code was collected
			// between ensureCode and now: start over from what is there.
			if cur, found, err = a.fromGet(key, tr.Responses[0].GetResponseRange().Kvs); err != nil {
				return nil, err
			}
			if !a.backoff(attempt) {
				return nil, a.etcdErr("writing "+docKey, a.ctx.Err())
			}
			continue
		}
		a.mirror.set(key, docEntry{key: key, rec: rec, rev: tr.Header.Revision})
		if rec.Code != nil {
			a.cache.add(rec.Code.Digest, *next.Exec.Code)
			written = slices.DeleteFunc(written, func(d string) bool { return d == rec.Code.Digest })
		}
		a.notify(ns, path)
		if oldRef != nil && (rec.Code == nil || oldRef.Digest != rec.Code.Digest) {
			a.collect(oldRef.Digest)
		}
		return next, nil
	}
	return nil, fmt.Errorf("%w: gave up after %d compare-and-swap rounds lost to other writers", ErrContention, maxAttempts)
}

// fromGet turns the Else branch's read of the document into a mirror
// entry.
func (a *Actions) fromGet(key string, kvs []*mvccpb.KeyValue) (docEntry, bool, error) {
	if len(kvs) == 0 {
		return docEntry{}, false, nil
	}
	e, err := a.decodeRecord(key, kvs[0].Value, kvs[0].ModRevision)
	if err != nil {
		return docEntry{}, false, err
	}
	a.mirror.set(key, e)
	return e, true, nil
}

// DeleteAction removes an action (document and code reference in one
// transaction, guarded by the document's revision) and returns it with
// its code; the code goes too unless another action has it.
func (a *Actions) DeleteAction(ns, path string) (*store.Action, error) {
	if err := checkAction(ns, path); err != nil {
		return nil, err
	}
	out, err := a.delete(ns, path)
	if err != nil {
		return nil, fmt.Errorf("cluster: delete action %s/%s: %w", ns, path, err)
	}
	return out, nil
}

func (a *Actions) delete(ns, path string) (*store.Action, error) {
	key := ns + "/" + path
	docKey := a.docsPrefix + key
	cur, found, err := a.readDoc(key)
	for attempt := 0; attempt < maxAttempts; attempt++ {
		if err != nil {
			return nil, err
		}
		if !found {
			return nil, store.ErrNotFound
		}
		var old *store.Action
		old, err = a.withCode(cur)
		if errors.Is(err, errCodeMissing) {
			cur, found, err = a.readDoc(key)
			continue
		} else if err != nil {
			return nil, err
		}
		ops := []clientv3.Op{clientv3.OpDelete(docKey)}
		if ref := cur.rec.Code; ref != nil {
			ops = append(ops, clientv3.OpDelete(a.refKey(ref.Digest, ns, path)))
		}
		ctx, cancel := a.callCtx()
		tr, terr := a.cli.Txn(ctx).
			If(clientv3.Compare(clientv3.ModRevision(docKey), "=", cur.rev)).
			Then(ops...).Else(clientv3.OpGet(docKey)).Commit()
		cancel()
		if terr != nil {
			return nil, a.etcdErr("deleting "+docKey, terr)
		}
		if !tr.Succeeded {
			cur, found, err = a.fromGet(key, tr.Responses[0].GetResponseRange().Kvs)
			if !a.backoff(attempt) {
				return nil, a.etcdErr("deleting "+docKey, a.ctx.Err())
			}
			continue
		}
		a.mirror.remove(key, tr.Header.Revision)
		a.notify(ns, path)
		if ref := cur.rec.Code; ref != nil {
			a.collect(ref.Digest)
		}
		return old, nil
	}
	return nil, fmt.Errorf("%w: gave up after %d compare-and-swap rounds lost to other writers", ErrContention, maxAttempts)
}

// backoff waits a random time that grows with the rounds lost, so that
// writers of one hot action spread out instead of colliding again; false
// after Close.
func (a *Actions) backoff(lost int) bool {
	ceiling := min(time.Millisecond<<min(lost, 6), 50*time.Millisecond)
	return a.sleep(rand.N(ceiling) + time.Millisecond)
}

// digestMemo hashes each distinct code once per write, however many
// rounds it takes: fn usually returns the same code string again.
type digestMemo struct {
	data *byte
	n    int
	ref  codeRef
}

func (m *digestMemo) of(code string) codeRef {
	if d := unsafe.StringData(code); m.ref.Digest == "" || d != m.data || len(code) != m.n {
		m.data, m.n, m.ref = d, len(code), refOf(code)
	}
	return m.ref
}
