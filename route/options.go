package route

import (
	"errors"
	"fmt"
	"math"
)

// DefaultEpsilon is the bounded-load slack ε: an invoker takes new work
// while its busy share stays under 1.25 times the cluster's mean. A smaller
// ε spreads load more evenly and moves more activations off their first
// choice; 0.25 is the value reference/cluster.md proposes.
const DefaultEpsilon = 0.25

// DefaultFloor is the busy share below which no invoker is over the bound,
// whatever the cluster's mean. Without it, in a quiet cluster (1 + ε) times
// the small mean is an activation or two, so an invoker running one or two
// activations is over it, and the next activation of an action warm there
// starts cold elsewhere. An invoker half busy is no hot spot; above that,
// the paper's bound applies as it is. TestWarmHitsSimulated measures the
// difference (route/README.md).
const DefaultFloor = 0.5

// DefaultCandidates is how many invokers Place returns by default: the
// choice and three to try in turn when one rejects the activation before
// accepting it. A caller's deadline rarely leaves time for more.
const DefaultCandidates = 4

// maxCandidatesInsert is the largest Candidates for which Place keeps the
// best few by insertion; above it, sorting all eligible invokers is cheaper.
const maxCandidatesInsert = 16

// ErrInvalid is wrapped by errors for input Place refuses: options out of
// range, an activation without memory.
var ErrInvalid = errors.New("invalid placement input")

// ErrNoInvoker is wrapped by Place's error when no invoker can ever take
// the activation: every one is draining or has less user memory than the
// activation needs.
var ErrNoInvoker = errors.New("no invoker can take the activation")

// Options tune Place. The zero value is the default.
type Options struct {
	// Epsilon is the bounded-load slack ε > 0; 0 means DefaultEpsilon.
	Epsilon float64
	// Floor is the busy share below which no invoker is over the bound:
	// the bound is max((1 + ε) × mean, Floor) × user memory. 0 means
	// DefaultFloor; a negative value means none (the paper's bound alone).
	Floor float64
	// Candidates is how many invokers Place returns at most, the choice
	// first; 0 means DefaultCandidates.
	Candidates int
}

// Validate reports options Place would refuse, naming the field, the value
// and the rule.
func (o Options) Validate() error {
	var errs []error
	if math.IsNaN(o.Epsilon) || math.IsInf(o.Epsilon, 0) || o.Epsilon < 0 {
		errs = append(errs, fmt.Errorf("route: Epsilon: %v is invalid: must be a finite number > 0 (0 means %v): %w",
			o.Epsilon, DefaultEpsilon, ErrInvalid))
	}
	if math.IsNaN(o.Floor) || math.IsInf(o.Floor, 0) || o.Floor > 1 {
		errs = append(errs, fmt.Errorf("route: Floor: %v is invalid: must be a finite number <= 1 (0 means %v, < 0 none): %w",
			o.Floor, DefaultFloor, ErrInvalid))
	}
	if o.Candidates < 0 {
		errs = append(errs, fmt.Errorf("route: Candidates: %d is invalid: must be >= 1 (0 means %d): %w",
			o.Candidates, DefaultCandidates, ErrInvalid))
	}
	return errors.Join(errs...)
}

// withDefaults fills the zero fields of a valid o.
func (o Options) withDefaults() Options {
	if o.Epsilon == 0 {
		o.Epsilon = DefaultEpsilon
	}
	if o.Candidates == 0 {
		o.Candidates = DefaultCandidates
	}
	switch {
	case o.Floor == 0:
		o.Floor = DefaultFloor
	case o.Floor < 0:
		o.Floor = 0
	}
	return o
}
