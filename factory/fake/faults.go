package fake

import (
	"cmp"
	"hash/fnv"
	"math/rand/v2"
	"sync"

	"github.com/stemcell-io/stemcell/factory"
)

// Fault is what an injected failure does to an operation.
//
//	fault            create              init / run                    suspend, resume, logs, destroy
//	Error            StartupError        developer error               an error
//	UserError        StartupError(user)  developer error               an error
//	DeveloperError   StartupError        developer error               an error
//	ApplicationError StartupError        init: developer, run: app.    an error
//	Crash            StartupError        "exited unexpectedly"; dead   an error
//	OOM              StartupError        "exhausted its memory"; dead  an error
//	Health           StartupError        ErrHealth                     resume: ErrHealth, others: an error
//	Timeout          StartupError        time-limit error, TimedOut    an error
//
// A dead container (after Crash or OOM) answers every later init and run
// with the same connection-error outcome, as a dead runtime would.
type Fault int

// The faults.
const (
	FaultNone Fault = iota
	FaultError
	FaultUserError
	FaultDeveloperError
	FaultApplicationError
	FaultCrash
	FaultOOM
	FaultHealth
	FaultTimeout
)

// Call describes one operation to an Injector.
type Call struct {
	Op Op
	// Seq numbers the calls of Op across the factory, from 1.
	Seq uint64
	// Container is nil for OpCreate.
	Container *Container
	// Spec is the create spec (for OpCreate, the one being created).
	Spec *factory.ContainerSpec
	// Activation is the activation ID of an OpRun; empty for other ops.
	Activation string
}

// ContainerName is the name the container was (or is being) created with:
// the pool chooses it, so unlike Seq and the container's ID it does not
// depend on which goroutine reached the fake first.
func (c Call) ContainerName() string {
	switch {
	case c.Spec != nil:
		return c.Spec.Name
	case c.Container != nil:
		return c.Container.spec.Name
	}
	return ""
}

// Key names the call by what the caller decided: container name, operation
// and activation. A test that orders calls by Key, or derives their faults
// from it, replays the same way whatever order the goroutines ran in.
func (c Call) Key() string {
	return c.ContainerName() + " " + c.Op.String() + " " + c.Activation
}

// compareCalls orders calls by Key, then by Seq for calls with equal keys.
func compareCalls(a, b Call) int {
	return cmp.Or(cmp.Compare(a.Key(), b.Key()), cmp.Compare(a.Seq, b.Seq))
}

// Injector decides the fault of each call; FaultNone lets it succeed.
type Injector func(c Call) Fault

// Always fails every call of op with f.
func Always(op Op, f Fault) Injector {
	return func(c Call) Fault {
		if c.Op == op {
			return f
		}
		return FaultNone
	}
}

// Nth fails only the n-th call (from 1) of op with f.
func Nth(op Op, n uint64, f Fault) Injector {
	return func(c Call) Fault {
		if c.Op == op && c.Seq == n {
			return f
		}
		return FaultNone
	}
}

// FirstN fails the first n calls of op with f.
func FirstN(op Op, n uint64, f Fault) Injector {
	return func(c Call) Fault {
		if c.Op == op && c.Seq <= n {
			return f
		}
		return FaultNone
	}
}

// Every fails every k-th call of op (k, 2k, ...) with f.
func Every(op Op, k uint64, f Fault) Injector {
	return func(c Call) Fault {
		if c.Op == op && k > 0 && c.Seq%k == 0 {
			return f
		}
		return FaultNone
	}
}

// Combine returns the first fault any of is returns.
func Combine(is ...Injector) Injector {
	return func(c Call) Fault {
		for _, i := range is {
			if f := i(c); f != FaultNone {
				return f
			}
		}
		return FaultNone
	}
}

// Seeded returns an injector that asks decide for the fault of each call
// with a roll in [0, 100) drawn from seed, the call's Key and how many
// calls with that Key came before it. Unlike a shared random source drawn
// from in call order, the roll of a call does not depend on which
// goroutine reached the fake first, so a seed replays the same faults.
func Seeded(seed uint64, decide func(c Call, roll int) Fault) Injector {
	var mu sync.Mutex
	seen := map[string]uint64{}
	return func(c Call) Fault {
		key := c.Key()
		mu.Lock()
		n := seen[key]
		seen[key] = n + 1
		mu.Unlock()
		h := fnv.New64a()
		h.Write([]byte(key))
		r := rand.New(rand.NewPCG(seed, h.Sum64()+n))
		return decide(c, r.IntN(100))
	}
}
