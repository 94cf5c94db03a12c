package policy

import (
	"cmp"
	"slices"
	"time"

	"github.com/stemcell-io/stemcell/config"
)

// rank is one container's sort key for an eviction order: idle containers
// of an action before stem cells, then by priority (0 for LRU), then by
// time (last use, or creation for a stem cell), then by position in the
// input, so that the order is total and the same input gives the same
// order.
type rank struct {
	stemCell bool
	priority float64
	at       time.Time
	index    int
}

func compareRanks(a, b rank) int {
	if a.stemCell != b.stemCell {
		if a.stemCell {
			return 1
		}
		return -1
	}
	if c := cmp.Compare(a.priority, b.priority); c != 0 {
		return c
	}
	if c := a.at.Compare(b.at); c != 0 {
		return c
	}
	return cmp.Compare(a.index, b.index)
}

// ranker sorts containers by rank in a buffer it keeps, so that ordering
// allocates only when the pool holds more idle containers than ever before.
type ranker struct {
	buf []rank
}

// order appends to dst the indexes of cs sorted by rank, priority(i, c)
// giving the priority of cs[i], an idle container of an action.
func (r *ranker) order(dst []int, cs []Container, priority func(i int, c *Container) float64) []int {
	ranks := r.buf[:0]
	for i := range cs {
		c := &cs[i]
		k := rank{stemCell: c.StemCell, at: c.LastUsed, index: i}
		if c.StemCell {
			k.at = c.Created
		} else if priority != nil {
			k.priority = priority(i, c)
		}
		ranks = append(ranks, k)
	}
	slices.SortFunc(ranks, compareRanks)
	for _, k := range ranks {
		dst = append(dst, k.index)
	}
	r.buf = ranks[:0]
	return dst
}

// Victims is the shortest prefix of order (indexes into cs, as Order
// returns them) whose containers' memory adds up to need, and whether it
// does; when it does not, it is all of order. A pool that protects some
// containers (those of the action it evicts for) skips them itself.
func Victims(order []int, cs []Container, need config.ByteSize) ([]int, bool) {
	var got config.ByteSize
	if need <= 0 {
		return order[:0], true
	}
	for n, i := range order {
		if got += cs[i].Memory; got >= need {
			return order[:n+1], true
		}
	}
	return order, false
}
