package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	bolt "go.etcd.io/bbolt"
)

// ErrNotFound is returned when an action or activation does not exist.
var ErrNotFound = errors.New("not found")

// ErrExists is returned when creating an action that exists.
var ErrExists = errors.New("already exists")

// ErrClosed is returned by writes after Close.
var ErrClosed = errors.New("store is closed")

// FileName is the database file inside the data directory.
const FileName = "stemcell.db"

// Bucket names. Activation indexes hold no record, only what a list or a
// prune needs to decide without decoding it.
var (
	bucketActions     = []byte("actions")     // ns \x00 path -> Action JSON
	bucketActivations = []byte("activations") // id -> Activation JSON
	bucketByNamespace = []byte("by-ns")       // ns \x00 start(8) id -> action path
	bucketByTime      = []byte("by-time")     // start(8) id -> ns
	bucketPending     = []byte("pending")     // id -> Activation JSON (accepted, not finished)
	bucketCode        = []byte("action-code") // ns \x00 path -> bucket {"code": code bytes}, for large code
)

// Options configure a store.
type Options struct {
	// RetentionAge drops records that started longer ago; 0 keeps them.
	RetentionAge time.Duration
	// RetentionCount keeps at most this many records (the newest); 0 keeps all.
	RetentionCount int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	Log zerolog.Logger
	// PromiseWait bounds how long a read waits for promised records (whose
	// logs are still being collected) before it goes on without them; 0
	// means DefaultPromiseWait.
	PromiseWait time.Duration
	// CommitDelay bounds how long a record nobody waits for (a finished
	// activation) is held for others to share its transaction; 0 means
	// DefaultCommitDelay, a negative value commits at once.
	CommitDelay time.Duration
}

// DefaultCommitDelay is how long a finished activation's record may wait
// for others to share its commit. A crash loses at most that much more of
// what was already answered; reads and every write somebody waits for
// commit at once.
const DefaultCommitDelay = 10 * time.Millisecond

// DefaultPromiseWait covers log collection in all but stuck cases, so a
// list never hangs on one container that stopped writing.
const DefaultPromiseWait = 5 * time.Second

// Store is the daemon's database. Activation writes go through one writer
// goroutine that commits whatever is queued in a single transaction, so
// concurrent activations share one fsync and the HTTP path never waits for
// the disk unless it must (a pending record before a 202); a finished
// activation's record also waits up to CommitDelay for others to join it.
type Store struct {
	db   *bolt.DB
	opts Options
	log  zerolog.Logger

	mu      sync.RWMutex // guards closed against sends on ops
	closed  bool
	ops     chan *op
	queued  atomic.Int64 // writes enqueued and not yet committed
	commits atomic.Int64 // transactions the writer ran (batching is tested by it)
	stopped chan struct{}

	promMu   sync.Mutex
	promises map[*Promise]struct{} // records promised and not yet queued
}

// op is one unit of work for the writer. apply runs inside the batch's
// transaction; done receives its error once the transaction committed.
type op struct {
	apply func(tx *bolt.Tx) error
	done  chan error
	async bool // nobody may wait on done: the writer logs a failure
}

// Open opens (creating if needed) the database in dir, turns activations
// left pending by a previous process into internal-error records, and
// applies retention.
func Open(dir string, opts Options) (*Store, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.PromiseWait <= 0 {
		opts.PromiseWait = DefaultPromiseWait
	}
	if opts.CommitDelay == 0 {
		opts.CommitDelay = DefaultCommitDelay
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("store: data directory %q: %w", dir, err)
	}
	path := filepath.Join(dir, FileName)
	// A large first mapping (address space, not memory): each time bbolt
	// grows its mapping inside a write it copies every value the write has
	// touched out of the old one, 85 MB more for a 45 MB action PUT.
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second, InitialMmapSize: 1 << 30})
	if err != nil {
		return nil, fmt.Errorf("store: open %q: %w (is another invoker using this data directory?)", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketActions, bucketActivations, bucketByNamespace, bucketByTime, bucketPending, bucketCode} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("store: create buckets in %q: %w", path, err)
	}
	s := &Store{
		db:       db,
		opts:     opts,
		log:      opts.Log.With().Str("component", "store").Logger(),
		ops:      make(chan *op, 1024),
		stopped:  make(chan struct{}),
		promises: map[*Promise]struct{}{},
	}
	n, err := s.recoverPending()
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	if n > 0 {
		s.log.Warn().Int("count", n).Msg("activations cut off by the previous process recorded as internal errors")
	}
	go s.writer()
	if _, err := s.Prune(); err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

// Path returns the database file.
func (s *Store) Path() string { return s.db.Path() }

// Close commits every queued write and closes the database.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.ops)
	s.mu.Unlock()
	<-s.stopped
	return s.db.Close()
}

// enqueue hands op to the writer. It blocks while the queue is full, which
// slows writers down to the disk's pace instead of growing without bound.
func (s *Store) enqueue(o *op) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	s.queued.Add(1)
	s.ops <- o
	return nil
}

// write enqueues apply and waits until it is committed.
func (s *Store) write(apply func(tx *bolt.Tx) error) error {
	o := &op{apply: apply, done: make(chan error, 1)}
	if err := s.enqueue(o); err != nil {
		return err
	}
	return <-o.done
}

// maxBatch bounds one transaction, so one huge burst does not hold the
// write lock for long.
const maxBatch = 256

func (s *Store) writer() {
	defer close(s.stopped)
	for {
		first, ok := <-s.ops
		if !ok {
			return
		}
		batch, open := s.gather(first)
		s.commit(batch)
		if !open {
			return
		}
	}
}

// gather collects the batch that first opens: what is queued already and,
// while every op in it is a record nobody waits for, what arrives within
// Options.CommitDelay. Under a light load each record would otherwise pay
// a commit (two fdatasyncs) of its own. An op somebody waits for (a pending
// record before a 202, a read's flush, an action) ends the wait at once.
// open is false once the queue is closed.
func (s *Store) gather(first *op) (batch []*op, open bool) {
	batch = []*op{first}
	waiting := first.async && s.opts.CommitDelay > 0
	var timeout <-chan time.Time
	if waiting {
		t := time.NewTimer(s.opts.CommitDelay)
		defer t.Stop()
		timeout = t.C
	}
	for len(batch) < maxBatch {
		if !waiting {
			select {
			case o, ok := <-s.ops:
				if !ok {
					return batch, false
				}
				batch = append(batch, o)
				continue
			default:
				return batch, true
			}
		}
		select {
		case o, ok := <-s.ops:
			if !ok {
				return batch, false
			}
			batch = append(batch, o)
			waiting = o.async
		case <-timeout:
			waiting = false
		}
	}
	return batch, true
}

// commit applies a batch in one transaction. An op that fails reports its
// own error without failing the others; a failed commit fails them all.
func (s *Store) commit(batch []*op) {
	errs := make([]error, len(batch))
	s.commits.Add(1)
	err := s.db.Update(func(tx *bolt.Tx) error {
		for i, o := range batch {
			if o.apply != nil {
				errs[i] = o.apply(tx)
			}
		}
		return nil
	})
	for i, o := range batch {
		e := errs[i]
		if err != nil {
			e = fmt.Errorf("store: commit: %w", err)
		}
		if e != nil && (o.done == nil || o.async) {
			s.log.Error().Err(e).Msg("asynchronous store write failed")
		}
		if o.done != nil {
			o.done <- e
		}
	}
	s.queued.Add(-int64(len(batch)))
}

// flush waits until every write enqueued or promised before the call is
// committed, so a read sees what an earlier request wrote.
func (s *Store) flush() error {
	s.awaitPromises()
	if s.queued.Load() == 0 {
		return nil
	}
	err := s.write(nil)
	if errors.Is(err, ErrClosed) {
		return nil // Close committed everything
	}
	return err
}

// timeKey is start(8, big endian ms) followed by the id: newest last.
func timeKey(start int64, id string) []byte {
	k := make([]byte, 8+len(id))
	binary.BigEndian.PutUint64(k, uint64(start))
	copy(k[8:], id)
	return k
}

func nsTimeKey(ns string, start int64, id string) []byte {
	k := make([]byte, 0, len(ns)+1+8+len(id))
	k = append(k, ns...)
	k = append(k, 0)
	return append(k, timeKey(start, id)...)
}

func actionKey(ns, path string) []byte {
	k := make([]byte, 0, len(ns)+1+len(path))
	k = append(k, ns...)
	k = append(k, 0)
	return append(k, path...)
}
