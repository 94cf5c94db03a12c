package policy

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// ErrUnknown is wrapped by the error for a policy name nobody knows.
var ErrUnknown = errors.New("unknown policy")

// KeepAlive decides how long the containers of an action stay loaded while
// they have no work, and, for a predictive policy, when to load one ahead
// of the action's next call. Implementations hold no clock: every time
// comes in as an argument.
type KeepAlive interface {
	Name() string
	// Observe learns from an idle time of st's action that an arriving
	// activation just ended (st is already updated for that activation).
	Observe(st *Stats, idle time.Duration)
	// Idle is the plan for c, which has just gone idle after a job, or
	// whose pause has just completed (c.PausedAt set); the pool asks again
	// on each, and the later answer replaces the earlier one.
	Idle(now time.Time, c Container) Plan
	// PreWarm is when to load a container of st's action ahead of its next
	// call, asked when one of its activations finishes; a zero Window
	// means none. The container loaded ahead goes at UnloadAt unless a job
	// used it first (from then on Idle decides for it).
	PreWarm(now time.Time, st *Stats) Window
}

// Eviction orders idle containers for removal when memory is short.
type Eviction interface {
	Name() string
	// Started is told of every activation of st's action arriving.
	Started(st *Stats)
	// Evicted is told of each container removed because Order put it first.
	Evicted(c Container)
	// Order appends to dst the indexes of cs in the order to remove them,
	// the first first, and returns it: every index exactly once. Stem cells
	// come after every idle container of an action, the oldest first: they
	// are the prewarm scheduler's stock, given up only when nothing else
	// is left.
	Order(dst []int, cs []Container) []int
}

// Policy is a keep-alive policy and an eviction order used together, and
// the one door through which the pool reports events, so that the shared
// Stats are updated once and every part hears what it needs. A Policy and
// the Stats it is given belong to one goroutine (the pool actor).
type Policy struct {
	KeepAlive KeepAlive
	Eviction  Eviction
}

// Started reports an activation of st's action arriving at at (its arrival
// at the pool, not its placement, so that a wait in the buffer does not
// count as idle time), to start as start.
func (p *Policy) Started(st *Stats, at time.Time, start Start) {
	idle, ok := st.begin(at, start)
	if ok {
		p.KeepAlive.Observe(st, idle)
	}
	p.Eviction.Started(st)
}

// Finished reports an activation of st's action finishing at at; d is its
// duration as Stats.Cold and Stats.Warm define it, <= 0 when it did not run.
func (p *Policy) Finished(st *Stats, at time.Time, start Start, d time.Duration) {
	st.end(at, start, d)
}

// Idle is KeepAlive.Idle.
func (p *Policy) Idle(now time.Time, c Container) Plan { return p.KeepAlive.Idle(now, c) }

// PreWarm is KeepAlive.PreWarm.
func (p *Policy) PreWarm(now time.Time, st *Stats) Window { return p.KeepAlive.PreWarm(now, st) }

// Order is Eviction.Order.
func (p *Policy) Order(dst []int, cs []Container) []int { return p.Eviction.Order(dst, cs) }

// Removed reports that c left the pool: evicted when Order put it first and
// memory was needed (not a keep-alive timer, not a failure); last when no
// container of its action is left, which restarts its frequency.
func (p *Policy) Removed(c Container, evicted, last bool) {
	if evicted {
		p.Eviction.Evicted(c)
	}
	if last && c.Stats != nil {
		c.Stats.Frequency = 0
	}
}

// Policy names, for New, NewKeepAlive and NewEviction.
const (
	OpenWhisk        = "openwhisk"          // TTL from the last use + LRU
	GreedyDual       = "greedy-dual"        // keep until evicted + Greedy-Dual order
	HybridHistogram  = "hybrid-histogram"   // hybrid-histogram windows + LRU
	HybridGreedyDual = "hybrid-greedy-dual" // hybrid-histogram windows + Greedy-Dual order (New only)
)

var (
	keepAlives = map[string]func(Options) (KeepAlive, error){
		OpenWhisk:       asKeepAlive(NewOpenWhiskKeepAlive),
		GreedyDual:      asKeepAlive(NewGreedyDualKeepAlive),
		HybridHistogram: asKeepAlive(NewHybridKeepAlive),
	}
	evictions = map[string]func(Options) (Eviction, error){
		OpenWhisk:  func(Options) (Eviction, error) { return NewLRU(), nil },
		GreedyDual: asEviction(NewGreedyDualEviction),
	}
	// pairs are New's names: a keep-alive policy and an eviction order.
	pairs = map[string][2]string{
		OpenWhisk:        {OpenWhisk, OpenWhisk},
		GreedyDual:       {GreedyDual, GreedyDual},
		HybridHistogram:  {HybridHistogram, OpenWhisk},
		HybridGreedyDual: {HybridHistogram, GreedyDual},
	}
)

// asKeepAlive and asEviction turn a constructor's failure into a nil
// interface, not one holding a nil pointer.
func asKeepAlive[T KeepAlive](mk func(Options) (T, error)) func(Options) (KeepAlive, error) {
	return func(o Options) (KeepAlive, error) {
		k, err := mk(o)
		if err != nil {
			return nil, err
		}
		return k, nil
	}
}

func asEviction[T Eviction](mk func(Options) (T, error)) func(Options) (Eviction, error) {
	return func(o Options) (Eviction, error) {
		e, err := mk(o)
		if err != nil {
			return nil, err
		}
		return e, nil
	}
}

func names[V any](m map[string]V) []string {
	ns := make([]string, 0, len(m))
	for n := range m {
		ns = append(ns, n)
	}
	slices.Sort(ns)
	return ns
}

// Names are the names New knows, sorted.
func Names() []string { return names(pairs) }

// KeepAliveNames are the names NewKeepAlive knows, sorted.
func KeepAliveNames() []string { return names(keepAlives) }

// EvictionNames are the names NewEviction knows, sorted.
func EvictionNames() []string { return names(evictions) }

func unknown(what, name string, known []string) error {
	return fmt.Errorf("policy: %s %q: %w: must be one of %s", what, name, ErrUnknown, strings.Join(known, ", "))
}

// New is the named policy with its keep-alive and eviction parts (see the
// constants), their knobs from o.
func New(name string, o Options) (*Policy, error) {
	pair, ok := pairs[name]
	if !ok {
		return nil, unknown("policy", name, Names())
	}
	return Compose(pair[0], pair[1], o)
}

// Compose is the keep-alive policy named keepAlive with the eviction order
// named eviction, as the configuration chooses them separately.
func Compose(keepAlive, eviction string, o Options) (*Policy, error) {
	k, errK := NewKeepAlive(keepAlive, o)
	e, errE := NewEviction(eviction, o)
	if err := errors.Join(errK, errE); err != nil {
		return nil, err
	}
	return &Policy{KeepAlive: k, Eviction: e}, nil
}

// NewKeepAlive is the keep-alive policy of that name.
func NewKeepAlive(name string, o Options) (KeepAlive, error) {
	mk, ok := keepAlives[name]
	if !ok {
		return nil, unknown("keep-alive policy", name, KeepAliveNames())
	}
	return mk(o)
}

// NewEviction is the eviction order of that name.
func NewEviction(name string, o Options) (Eviction, error) {
	mk, ok := evictions[name]
	if !ok {
		return nil, unknown("eviction policy", name, EvictionNames())
	}
	return mk(o)
}
