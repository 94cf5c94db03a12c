package pool

import (
	"fmt"
	"slices"

	"github.com/stemcell-io/stemcell/config"
)

// checkFairQueue lists what is inconsistent in the fair queue's books: the
// counts and memory of its queues, its namespace ring, and its promises
// (each promised job is the head of its queue, and the totals add up).
func checkFairQueue(f *fairQueue) []string {
	var bad []string
	n, mem := 0, config.ByteSize(0)
	if len(f.ring) != len(f.byNS) {
		bad = append(bad, fmt.Sprintf("fair queue: ring has %d namespaces, index %d", len(f.ring), len(f.byNS)))
	}
	queues := 0
	var total config.ByteSize
	for _, ns := range f.ring {
		if len(ns.actions) == 0 {
			bad = append(bad, fmt.Sprintf("fair queue: namespace %q has no queue", ns.name))
		}
		var promised config.ByteSize
		for i, h := range ns.holders {
			promised += h.memory()
			q := f.byIdent[h.identity()]
			if !h.holder || q == nil || q.ns != ns || q.head() != h {
				bad = append(bad, fmt.Sprintf("fair queue: promise %d of namespace %q (%s) is not the head of one of its queues", i, ns.name, h.act.ID))
			}
		}
		for _, q := range ns.actions {
			queues++
			if len(q.jobs) == 0 || f.byIdent[q.ident] != q {
				bad = append(bad, fmt.Sprintf("fair queue: queue of %+v empty or misindexed", q.ident))
				continue
			}
			for i, j := range q.jobs {
				n++
				mem += j.memory()
				if j.holder && (i != 0 || !slices.Contains(ns.holders, j)) {
					bad = append(bad, fmt.Sprintf("fair queue: %s marked promised but not a listed head", j.act.ID))
				}
			}
		}
		if promised != ns.promised || (len(ns.holders) > 0) != slices.Contains(f.promisedNS, ns) {
			bad = append(bad, fmt.Sprintf("fair queue: namespace %q counts %d B promised, its %d promises need %d B", ns.name, ns.promised, len(ns.holders), promised))
		}
		total += promised
	}
	if queues != len(f.byIdent) {
		bad = append(bad, fmt.Sprintf("fair queue: %d queues in namespaces, %d indexed", queues, len(f.byIdent)))
	}
	if n != f.n || mem != f.mem {
		bad = append(bad, fmt.Sprintf("fair queue: counts %d jobs of %d B, holds %d of %d B", f.n, f.mem, n, mem))
	}
	if total != f.promised {
		bad = append(bad, fmt.Sprintf("fair queue: promised %d B, the namespaces' promises need %d B", f.promised, total))
	}
	return bad
}
