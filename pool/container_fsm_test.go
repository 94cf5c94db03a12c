package pool

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/rs/zerolog"
)

// newTestCounters returns container counters registered on a registry of
// their own.
func newTestCounters(t *testing.T) *containerCounters {
	t.Helper()
	m, err := newMetrics(prometheus.NewRegistry(), "test")
	if err != nil {
		t.Fatalf("metrics: %v", err)
	}
	return m.results()
}

// counterValue reads a counter.
func counterValue(t testing.TB, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatalf("read counter: %v", err)
	}
	return m.GetCounter().GetValue()
}

// refusedTransitions sums the illegal transitions counted so far.
func refusedTransitions(t testing.TB, c *containerCounters) float64 {
	t.Helper()
	var n float64
	for from := containerState(0); from < numContainerStates; from++ {
		for to := containerState(0); to < numContainerStates; to++ {
			n += counterValue(t, c.refused.WithLabelValues(from.String(), to.String()))
		}
	}
	return n
}

// TestContainerTransitionTable walks every pair of distinct states: become
// makes exactly the moves of allowedTransitions, counts each under its
// pair, and refuses (and counts as illegal) every other one, leaving the
// state as it was.
func TestContainerTransitionTable(t *testing.T) {
	var allowed, illegal int
	for from := containerState(0); from < numContainerStates; from++ {
		for to := containerState(0); to < numContainerStates; to++ {
			if from == to {
				continue
			}
			t.Run(from.String()+"->"+to.String(), func(t *testing.T) {
				counters := newTestCounters(t)
				a := newContainerActor(containerParams{Log: zerolog.Nop(), Results: counters}, &containerCell{})
				a.state = from
				want := allowedTransitions[from].has(to)
				if got := a.become(to); got != want {
					t.Fatalf("become(%v) from %v = %v, want %v", to, from, got, want)
				}
				wantState, wantMoves, wantRefused := from, 0.0, 1.0
				if want {
					wantState, wantMoves, wantRefused = to, 1, 0
					allowed++
				} else {
					illegal++
				}
				if a.state != wantState {
					t.Errorf("state after become(%v) from %v: %v, want %v", to, from, a.state, wantState)
				}
				if want {
					if got := counterValue(t, counters.transitions[from][to]); got != wantMoves {
						t.Errorf("transition %v->%v counted %v times, want %v", from, to, got, wantMoves)
					}
				} else if counters.transitions[from][to] != nil {
					t.Errorf("illegal transition %v->%v has a transition counter", from, to)
				}
				if got := refusedTransitions(t, counters); got != wantRefused {
					t.Errorf("refused transitions counted: %v, want %v", got, wantRefused)
				}
			})
		}
	}
	if allowed == 0 || illegal == 0 {
		t.Fatalf("walked %d allowed and %d illegal transitions: the table is degenerate", allowed, illegal)
	}
}

// TestContainerTransitionTableShape checks the table as a graph: every
// state is reachable from the start, every state but Removing can reach
// Removing (a container can always go away), and Removing is final.
func TestContainerTransitionTableShape(t *testing.T) {
	reach := func(from containerState) stateSet {
		seen := statesOf(from)
		for queue := []containerState{from}; len(queue) > 0; queue = queue[1:] {
			for to := containerState(0); to < numContainerStates; to++ {
				if allowedTransitions[queue[0]].has(to) && !seen.has(to) {
					seen |= statesOf(to)
					queue = append(queue, to)
				}
			}
		}
		return seen
	}
	fromStart := reach(stateUninitialized)
	for s := containerState(0); s < numContainerStates; s++ {
		if !fromStart.has(s) {
			t.Errorf("state %v cannot be reached from %v", s, stateUninitialized)
		}
		if s != stateRemoving && !allowedTransitions[s].has(stateRemoving) {
			t.Errorf("state %v cannot go to %v directly: a stop from outside destroys from any state", s, stateRemoving)
		}
	}
	if allowedTransitions[stateRemoving] != 0 {
		t.Errorf("%v is final, but the table lets it go to %b", stateRemoving, allowedTransitions[stateRemoving])
	}
}

func TestContainerStateNames(t *testing.T) {
	seen := map[string]containerState{}
	for s := containerState(0); s < numContainerStates; s++ {
		name := s.String()
		if name == "" || name == "invalid" {
			t.Errorf("state %d has no name", s)
		}
		if prev, dup := seen[name]; dup {
			t.Errorf("states %d and %d share the name %q", prev, s, name)
		}
		seen[name] = s
	}
	if got := numContainerStates.String(); got != "invalid" {
		t.Errorf("out-of-range state named %q, want invalid", got)
	}
}
