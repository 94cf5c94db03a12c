package route

import (
	"fmt"
	"math/rand/v2"

	"github.com/stemcell-io/stemcell/config"
)

// idle is an invoker with nothing running: all its memory free.
func idle(id string, mem config.ByteSize) Invoker {
	return Invoker{ID: id, Incarnation: 1, Revision: 1, UserMemory: mem, Free: mem}
}

// cluster is n idle invokers of mem each, named like operators name them.
func cluster(n int, mem config.ByteSize) []Invoker {
	invs := make([]Invoker, n)
	for i := range invs {
		invs[i] = idle(fmt.Sprintf("10.0.%d.%d:8080", i/250, i%250+1), mem)
	}
	return invs
}

// randomCluster is n idle invokers with user memory drawn from sizes.
func randomCluster(r *rand.Rand, n int) []Invoker {
	sizes := []config.ByteSize{1 * config.GB, 2 * config.GB, 4 * config.GB, 8 * config.GB}
	invs := make([]Invoker, n)
	for i := range invs {
		invs[i] = idle(fmt.Sprintf("inv-%d-%x", i, r.Uint32()), sizes[r.IntN(len(sizes))])
	}
	return invs
}

func action(i int) Action {
	return Action{Namespace: fmt.Sprintf("ns%d", i%7), Name: fmt.Sprintf("ns%d/pkg/act%d", i%7, i), Version: "0.0.1"}
}

// ids maps indexes into invs to IDs.
func ids(invs []Invoker, order []int) []string {
	out := make([]string, len(order))
	for i, j := range order {
		out[i] = invs[j].ID
	}
	return out
}

func candidateIDs(p Placement) []string {
	out := make([]string, len(p.Candidates))
	for i, c := range p.Candidates {
		out[i] = c.ID
	}
	return out
}

func without(invs []Invoker, i int) []Invoker {
	out := append([]Invoker(nil), invs[:i]...)
	return append(out, invs[i+1:]...)
}

func shuffled(r *rand.Rand, invs []Invoker) []Invoker {
	out := append([]Invoker(nil), invs...)
	r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}
