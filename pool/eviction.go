package pool

import (
	"iter"

	"github.com/stemcell-io/stemcell/config"
)

// planEviction picks idle containers to remove, least recently used first,
// until they cover shortfall. lru yields the idle containers oldest first
// and evictable is their total memory: when they cannot cover the shortfall
// nothing is evicted at all, since removing them would not let the job run
// and would only throw warm containers away.
func planEviction[T any](shortfall, evictable config.ByteSize, lru iter.Seq[T], memory func(T) config.ByteSize) []T {
	if shortfall <= 0 || evictable < shortfall {
		return nil
	}
	var out []T
	var got config.ByteSize
	for c := range lru {
		out = append(out, c)
		got += memory(c)
		if got >= shortfall {
			return out
		}
	}
	// evictable overstated what lru holds: evicting part would not help.
	return nil
}
