package cluster

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	clientv3 "go.etcd.io/etcd/client/v3"
	"golang.org/x/sync/singleflight"

	"github.com/stemcell-io/stemcell/store"
)

// DefaultCodeCacheBytes bounds the codes an Actions keeps in memory.
const DefaultCodeCacheBytes = 256 << 20

// maxAttempts bounds the compare-and-swap rounds of one write: each lost
// round means another writer updated the same action (or its code was
// collected) in between, and a random backoff follows; running out says
// the action is very hot, not that etcd is down. 30 writers updating one
// action at once all got through in TestActionsNoLostUpdate.
const maxAttempts = 64

// ActionsOptions configure an Actions.
type ActionsOptions struct {
	// Cluster names the cluster: documents live under
	// /stemcell/v1/<Cluster>/actions/.
	Cluster string
	// CallTimeout bounds each etcd call (DefaultCallTimeout when 0).
	CallTimeout time.Duration
	// CodeCacheBytes bounds the codes kept in memory by digest
	// (DefaultCodeCacheBytes when 0).
	CodeCacheBytes int
	// Logger receives the store's events (component=cluster-actions).
	Logger zerolog.Logger
}

// ActionsStatus is how the mirror keeps up with etcd.
type ActionsStatus struct {
	// Listed: a first list is in; before it reads go to etcd.
	Listed bool
	// Revision is the last revision the watch applied.
	Revision int64
	// Lists, Resumes and Compacted count full lists, watches resumed
	// after the last event seen, and watches refused as compacted.
	Lists, Resumes, Compacted int
	// Collected counts codes this process garbage-collected.
	Collected int64
	// CachedCodes and CachedBytes are the code cache's content.
	CachedCodes, CachedBytes int
}

// Actions keeps action documents in etcd, for every front and invoker of
// a cluster: it has the method sets of server.Actions and
// server.ActionChanges. Documents are mirrored in memory (list + watch),
// so reads on the invoke path make no etcd call; codes are cached by
// digest. See doc.go and README.md for the keys and the guarantees.
type Actions struct {
	cli        *clientv3.Client
	opts       ActionsOptions
	root       string // /stemcell/v1/<cluster>/
	docsPrefix string // root + actions/
	log        zerolog.Logger

	mirror mirror
	cache  *codeCache
	loads  singleflight.Group

	cbMu      sync.Mutex
	callbacks []func(ns, path string)

	statusMu  sync.Mutex
	status    ActionsStatus
	collected atomic.Int64
	ready     chan struct{}
	readyOnce sync.Once

	ctx       context.Context
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	interrupt chan struct{} // breaks the current watch (tests)
	hooks     actionsHooks
}

// actionsHooks let tests act at points of a write or of the watch loop.
type actionsHooks struct {
	// beforeWatch runs before each watch starts from rev+1.
	beforeWatch func(rev int64)
	// beforeCommit runs before a document transaction that refers to
	// the code digest.
	beforeCommit func(digest string)
}

// NewActions starts mirroring the action documents of opts.Cluster. Reads
// go to etcd until the first list is in (Ready). Close stops it; cli stays
// the caller's.
func NewActions(cli *clientv3.Client, opts ActionsOptions) (*Actions, error) {
	return newActions(cli, opts, actionsHooks{})
}

func newActions(cli *clientv3.Client, opts ActionsOptions, hooks actionsHooks) (*Actions, error) {
	if err := checkName("cluster", opts.Cluster); err != nil {
		return nil, err
	}
	if opts.CallTimeout == 0 {
		opts.CallTimeout = DefaultCallTimeout
	}
	if opts.CodeCacheBytes == 0 {
		opts.CodeCacheBytes = DefaultCodeCacheBytes
	}
	if opts.CallTimeout < 0 || opts.CodeCacheBytes < 0 {
		return nil, fmt.Errorf("%w: call-timeout %v, code-cache-bytes %d: must be > 0", ErrInvalid, opts.CallTimeout, opts.CodeCacheBytes)
	}
	root := Root + opts.Cluster + "/"
	a := &Actions{
		cli: cli, opts: opts, root: root, docsPrefix: root + "actions/",
		log:       opts.Logger.With().Str("component", "cluster-actions").Str("cluster", opts.Cluster).Logger(),
		mirror:    mirror{docs: map[string]docEntry{}, gone: map[string]int64{}},
		cache:     newCodeCache(opts.CodeCacheBytes),
		ready:     make(chan struct{}),
		interrupt: make(chan struct{}),
		hooks:     hooks,
	}
	a.ctx, a.cancel = context.WithCancel(context.Background())
	a.wg.Add(1)
	go a.follow()
	return a, nil
}

// ActionsPrefix is the prefix of cluster's action documents.
func ActionsPrefix(cluster string) string { return Root + cluster + "/actions/" }

// Ready is closed once the first list is in.
func (a *Actions) Ready() <-chan struct{} { return a.ready }

// Close stops the mirror. Calls made after it fail.
func (a *Actions) Close() {
	a.cancel()
	a.wg.Wait()
}

// Status returns how the mirror keeps up and what the cache holds.
func (a *Actions) Status() ActionsStatus {
	a.statusMu.Lock()
	st := a.status
	a.statusMu.Unlock()
	st.Listed, st.Revision = a.mirror.state()
	st.Collected = a.collected.Load()
	st.CachedCodes, st.CachedBytes = a.cache.size()
	return st
}

func (a *Actions) count(f func(*ActionsStatus)) {
	a.statusMu.Lock()
	defer a.statusMu.Unlock()
	f(&a.status)
}

// OnChange registers f, called with every action created, updated or
// deleted, by this process (at once) or another (when the watch reports
// it), after the change is readable here.
func (a *Actions) OnChange(f func(ns, path string)) {
	a.cbMu.Lock()
	defer a.cbMu.Unlock()
	a.callbacks = append(a.callbacks, f)
}

func (a *Actions) notifyKey(key string) {
	ns, path, _ := strings.Cut(key, "/")
	a.notify(ns, path)
}

func (a *Actions) notify(ns, path string) {
	a.cbMu.Lock()
	cbs := slices.Clone(a.callbacks)
	a.cbMu.Unlock()
	for _, f := range cbs {
		f(ns, path)
	}
}

// checkAction refuses a namespace or path that would make keys
// ambiguous: a namespace is one segment, a path "name" or "pkg/name".
func checkAction(ns, path string) error {
	if err := checkName("namespace", ns); err != nil {
		return err
	}
	parts := strings.Split(path, "/")
	if len(parts) > 2 || slices.Contains(parts, "") {
		return fmt.Errorf("%w: action path %q is invalid: must be \"name\" or \"package/name\"", ErrInvalid, path)
	}
	for _, p := range parts {
		if err := checkName("action path", p); err != nil {
			return err
		}
	}
	return nil
}

// GetAction returns the action at path in namespace ns: from the mirror
// when it holds it (no etcd call once the code is cached), else from etcd,
// so an action just created through another process is found.
func (a *Actions) GetAction(ns, path string) (*store.Action, error) {
	if err := checkAction(ns, path); err != nil {
		return nil, err
	}
	key := ns + "/" + path
	e, ok := a.mirror.get(key)
	for attempt := 0; ; attempt++ {
		if !ok {
			var err error
			if e, ok, err = a.readDoc(key); err != nil {
				return nil, fmt.Errorf("cluster: action %s/%s: %w", ns, path, err)
			}
			if !ok {
				return nil, fmt.Errorf("cluster: action %s/%s: %w", ns, path, store.ErrNotFound)
			}
		}
		doc, err := a.withCode(e)
		if errors.Is(err, errCodeMissing) && attempt < maxAttempts {
			ok = false // the document changed since: read it again
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("cluster: action %s/%s: %w", ns, path, err)
		}
		return doc, nil
	}
}

// readDoc reads the document at key (<ns>/<path>) linearizably and puts it
// in the mirror.
func (a *Actions) readDoc(key string) (docEntry, bool, error) {
	ctx, cancel := a.callCtx()
	defer cancel()
	resp, err := a.cli.Get(ctx, a.docsPrefix+key)
	if err != nil {
		return docEntry{}, false, a.etcdErr("reading "+a.docsPrefix+key, err)
	}
	if len(resp.Kvs) == 0 {
		return docEntry{}, false, nil
	}
	kv := resp.Kvs[0]
	e, err := a.decodeRecord(key, kv.Value, kv.ModRevision)
	if err != nil {
		return docEntry{}, false, err
	}
	a.mirror.set(key, e)
	return e, true, nil
}

// withCode returns a copy of e's document with its code, which callers may
// change without touching the mirror.
func (a *Actions) withCode(e docEntry) (*store.Action, error) {
	doc := e.rec.Action
	doc.Parameters = slices.Clone(doc.Parameters)
	doc.Annotations = slices.Clone(doc.Annotations)
	if e.rec.Code != nil {
		code, err := a.code(*e.rec.Code)
		if err != nil {
			return nil, err
		}
		doc.Exec.Code = &code
	}
	return &doc, nil
}

// ListActions lists the actions of ns (of package pkg when set) as
// store.ListActions does: most recently updated first, without code.
// It reads the mirror once listed, etcd before.
func (a *Actions) ListActions(ns, pkg string, skip, limit int) (list []store.Action, total int, err error) {
	if err := checkName("namespace", ns); err != nil {
		return nil, 0, err
	}
	var entries []docEntry
	if listed, _ := a.mirror.state(); listed {
		entries = a.mirror.entries(ns, pkg)
	} else if entries, err = a.listDirect(ns, pkg); err != nil {
		return nil, 0, fmt.Errorf("cluster: list actions of %s: %w", ns, err)
	}
	// The store's order: most recently updated first, then by path.
	slices.SortFunc(entries, func(x, y docEntry) int {
		if c := cmp.Compare(y.rec.Action.Updated, x.rec.Action.Updated); c != 0 {
			return c
		}
		return strings.Compare(x.key, y.key)
	})
	total = len(entries)
	entries = entries[min(max(skip, 0), len(entries)):]
	if limit > 0 && limit < len(entries) {
		entries = entries[:limit]
	}
	list = make([]store.Action, len(entries))
	for i, e := range entries {
		// The caller's copy: the mirror's slices stay the mirror's.
		list[i] = e.rec.Action
		list[i].Parameters = slices.Clone(list[i].Parameters)
		list[i].Annotations = slices.Clone(list[i].Annotations)
	}
	return list, total, nil
}

func (a *Actions) listDirect(ns, pkg string) ([]docEntry, error) {
	ctx, cancel := a.callCtx()
	defer cancel()
	prefix := a.docsPrefix + ns + "/"
	resp, err := a.cli.Get(ctx, prefix, clientv3.WithPrefix())
	if err != nil {
		return nil, a.etcdErr("listing "+prefix, err)
	}
	var out []docEntry
	for _, kv := range resp.Kvs {
		key := strings.TrimPrefix(string(kv.Key), a.docsPrefix)
		if !inPackage(strings.TrimPrefix(key, ns+"/"), pkg) {
			continue
		}
		e, err := a.decodeRecord(key, kv.Value, kv.ModRevision)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}
