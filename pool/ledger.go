package pool

import (
	"fmt"

	"github.com/stemcell-io/stemcell/actors"
	"github.com/stemcell-io/stemcell/config"
)

// memState is where a container's memory sits in the ledger. Every byte of
// user memory held by this pool is in exactly one state.
type memState uint8

const (
	memStarting  memState = iota // stem cell reservation, cold container being created, or first init
	memPrewarmed                 // stem cell ready to be taken
	memBusy                      // warm container running at least one job
	memIdle                      // warm container with nothing running
	memRemoving                  // being destroyed: counted until the engine is done
	numMemStates
)

var memStateNames = [numMemStates]string{"starting", "prewarmed", "busy", "idle", "removing"}

func (s memState) String() string {
	if s < numMemStates {
		return memStateNames[s]
	}
	return fmt.Sprintf("memState(%d)", uint8(s))
}

// ledger is the pool's book of user memory. It refuses any entry that
// would take the total above the budget, so the budget holds at every
// instant rather than on average (DESIGN invariant 1).
type ledger struct {
	total config.ByteSize
	used  config.ByteSize
	mem   [numMemStates]config.ByteSize
	count [numMemStates]int
}

func newLedger(total config.ByteSize) ledger { return ledger{total: total} }

// free is what is neither held nor promised.
func (l *ledger) free() config.ByteSize { return l.total - l.used }

// fits reports whether m more bytes stay within the budget.
func (l *ledger) fits(m config.ByteSize) bool { return m <= l.total-l.used }

// add books a new container of m bytes in state s.
func (l *ledger) add(s memState, m config.ByteSize) error {
	if m < 0 {
		return fmt.Errorf("ledger: memory %d B is invalid: must be >= 0", m)
	}
	if !l.fits(m) {
		return fmt.Errorf("ledger: adding %d MB as %s to %d MB used is refused: container-pool.user-memory is %d MB",
			m.MBs(), s, l.used.MBs(), l.total.MBs())
	}
	l.used += m
	l.mem[s] += m
	l.count[s]++
	return nil
}

// move changes the state of a container already booked; the total is
// unchanged, so it cannot break the budget.
func (l *ledger) move(from, to memState, m config.ByteSize) {
	if from == to {
		return
	}
	l.mem[from] -= m
	l.count[from]--
	l.mem[to] += m
	l.count[to]++
}

// recount books m bytes in state s without the budget check: a ledger
// rebuilt after a panic (crash.go) must describe what exists, and what
// exists cannot be refused.
func (l *ledger) recount(s memState, m config.ByteSize) {
	l.used += m
	l.mem[s] += m
	l.count[s]++
}

// release takes m bytes in state s off the book. The pool calls it only
// through poolActor.memoryReturned, which states when that is allowed.
func (l *ledger) release(s memState, m config.ByteSize) {
	l.used -= m
	l.mem[s] -= m
	l.count[s]--
}

// check verifies the book is consistent; tests call it after every step.
func (l *ledger) check() error {
	var sum config.ByteSize
	for s := memState(0); s < numMemStates; s++ {
		if l.mem[s] < 0 || l.count[s] < 0 {
			return fmt.Errorf("ledger: state %s holds %d B in %d containers: must be >= 0", s, l.mem[s], l.count[s])
		}
		sum += l.mem[s]
	}
	if sum != l.used {
		return fmt.Errorf("ledger: states sum to %d B but used is %d B: must be equal", sum, l.used)
	}
	if l.used > l.total {
		return fmt.Errorf("ledger: used %d MB exceeds container-pool.user-memory %d MB", l.used.MBs(), l.total.MBs())
	}
	return nil
}

func (l *ledger) usage(s memState) actors.Usage {
	return actors.Usage{Count: l.count[s], Memory: l.mem[s]}
}

// memoryReturned is the one place where memory goes back to the pool: m
// bytes booked in state s leave the ledger. The rule: memory returns only
// once the engine holds nothing for it, that is when the engine confirmed
// the container is gone (ContainerRemoved, the factory's cleanup at the end
// of a shutdown) or that it never came to exist (a creation that failed or
// was never started). A change of state of a container that still exists,
// such as a stem-cell reservation becoming a stem cell, is a ledger.move,
// never a return followed by a new booking. The one exception is a
// container actor that stopped without reporting its removal (onGone):
// nobody can confirm anything any more, and the factory's cleanup at
// shutdown removes what it left. why names the confirmation, for the debug
// log. The caller follows with memoryBack once its books are done.
func (p *poolActor) memoryReturned(s memState, m config.ByteSize, why string) {
	p.ledger.release(s, m)
	p.log.Debug().Stringer("state", s).Int64("memory_mb", m.MBs()).Str("why", why).Msg("memory returned to the ledger")
}
