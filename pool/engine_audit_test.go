package pool

import (
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stemcell-io/stemcell/actors"
	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/factory"
)

// engineAudit is what a test factory tells about the engine it plays: the
// memory of the containers it holds (being created, or created and not yet
// destroyed) and the misuses it saw (a container destroyed twice, used
// after its destroy). factory/fake and the gated engine both implement it.
type engineAudit interface {
	LiveMemory() int64
	Violations() []error
}

// checkEngine compares what the engine holds with the pool's books, after
// every message the pool handles. Memory is booked before the factory
// creates and given back after the factory destroyed, so at every instant
//
//	engine-held <= ledger-used <= user-memory.
//
// The ledger is read on the pool's goroutine, where it cannot change; the
// engine is read under its own lock. A destroy that completes between the
// two reads only lowers engine-held, and a create can only fill memory the
// ledger booked before this message, so the comparison is sound.
func (h *harness) checkEngine(p *poolActor) []string {
	if h.audit == nil {
		return nil
	}
	var bad []string
	used, limit := int64(p.ledger.used), int64(h.cfg.ContainerPool.UserMemory)
	held := h.audit.LiveMemory()
	if held > used {
		bad = append(bad, fmt.Sprintf("the engine holds %d MB of containers but the ledger books only %d MB: memory went back before the engine removed a container", held/int64(mb), used/int64(mb)))
	}
	if held > limit {
		bad = append(bad, fmt.Sprintf("the engine holds %d MB of containers, over user-memory %d MB", held/int64(mb), limit/int64(mb)))
	}
	// A misuse is reported once, by the message after which it was seen.
	if v := h.audit.Violations(); len(v) > h.auditSeen {
		for _, err := range v[h.auditSeen:] {
			bad = append(bad, "engine: "+err.Error())
		}
		h.auditSeen = len(v)
	}
	return bad
}

// engineHeld is checked by the test between its steps, when the pool may be
// idle: what the engine holds never exceeds user-memory and no misuse was
// seen. It complements checkEngine, which runs only when the pool handles a
// message.
func (h *harness) engineHeld() []string {
	if h.audit == nil {
		return nil
	}
	var bad []string
	if held, limit := h.audit.LiveMemory(), int64(h.cfg.ContainerPool.UserMemory); held > limit {
		bad = append(bad, fmt.Sprintf("between steps the engine holds %d MB of containers, over user-memory %d MB", held/int64(mb), limit/int64(mb)))
	}
	for _, err := range h.audit.Violations() {
		bad = append(bad, "engine: "+err.Error())
	}
	return bad
}

// newBubbleHarness is newHarnessWith for a test inside a synctest bubble:
// each timer of the pool's fake clock fires with the bubble settled after
// it, so the timers that fall due in one Advance act one after the other,
// in the clock's order, and not at once.
func newBubbleHarness(t testing.TB, cfg *config.Config, eng factory.ContainerFactory) *harness {
	t.Helper()
	return newHarnessClock(t, cfg, eng, func(fc *actors.FakeClock) actors.Clock { return settlingClock{fc} })
}

// settlingClock is a fake clock whose timers let the bubble settle after
// they fire. Advance runs them on the test's goroutine, where
// synctest.Wait may be called.
type settlingClock struct{ *actors.FakeClock }

func (c settlingClock) AfterFunc(d time.Duration, f func()) func() bool {
	return c.FakeClock.AfterFunc(d, func() {
		f()
		synctest.Wait()
	})
}

// firstFew keeps a report readable: the same violation is seen after
// every message until the test stops.
func firstFew(v []string) string {
	const n = 3
	if len(v) <= n {
		return strings.Join(v, "; ")
	}
	return fmt.Sprintf("%s; and %d more", strings.Join(v[:n], "; "), len(v)-n)
}
