package fake

import "github.com/stemcell-io/stemcell/factory"

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
