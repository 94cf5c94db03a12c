package pool

import (
	"slices"
	"testing"

	"github.com/stemcell-io/stemcell/config"
)

func TestPlanEviction(t *testing.T) {
	// Idle containers, least recently used first, by memory in MB.
	lru := []int{128, 256, 128, 512}
	sum := func(xs []int) config.ByteSize {
		var s config.ByteSize
		for _, x := range xs {
			s += config.ByteSize(x) * mb
		}
		return s
	}
	tests := []struct {
		name      string
		lru       []int
		evictable config.ByteSize
		shortfall config.ByteSize
		want      []int
	}{
		{"oldest alone covers it", lru, sum(lru), 100 * mb, []int{128}},
		{"exactly the oldest", lru, sum(lru), 128 * mb, []int{128}},
		{"two oldest", lru, sum(lru), 129 * mb, []int{128, 256}},
		{"stops as soon as covered", lru, sum(lru), 500 * mb, []int{128, 256, 128}},
		{"everything", lru, sum(lru), sum(lru), lru},
		{"not enough: evict nothing", lru, sum(lru), sum(lru) + 1, nil},
		{"no shortfall: evict nothing", lru, sum(lru), 0, nil},
		{"empty", nil, 0, 128 * mb, nil},
		{"evictable overstated: evict nothing", []int{128}, 512 * mb, 256 * mb, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// The head alone, with nothing free or on its way back.
			head := []aheadJob[string]{{Need: tc.shortfall, Ident: "head"}}
			got, _ := planAhead(0, tc.evictable, head, slices.Values(tc.lru),
				func(m int) config.ByteSize { return config.ByteSize(m) * mb }, func(int) string { return "idle" })
			if !slices.Equal(got, tc.want) {
				t.Fatalf("planAhead(head needs %d MB) = %v, want %v", tc.shortfall.MBs(), got, tc.want)
			}
		})
	}
}
