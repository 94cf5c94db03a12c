package prewarm

import (
	"fmt"
	"sort"

	"github.com/stemcell-io/stemcell/config"
)

// Key is what a stem cell is interchangeable by: an activation of this kind
// and memory can take any stem cell with the same key.
type Key struct {
	Kind   string
	Memory config.ByteSize
}

func (k Key) String() string { return fmt.Sprintf("%s/%dMB", k.Kind, k.Memory/config.MB) }

// Cell is one stem-cell configuration of the runtimes manifest.
type Cell struct {
	Key
	Image        config.ImageName
	InitialCount int
	Reactive     *config.ReactiveConfig // nil: fixed stock that never expires
}

// cellsOf lists the manifest's stem cells in a stable order (family, then
// manifest order), so that creation order is reproducible. Two entries with
// the same kind and memory are merged by adding their counts, since the pool
// cannot tell their stem cells apart.
func cellsOf(m config.Manifest) []Cell {
	families := make([]string, 0, len(m.Runtimes))
	for f := range m.Runtimes {
		families = append(families, f)
	}
	sort.Strings(families)
	var out []Cell
	index := map[Key]int{}
	for _, f := range families {
		for _, rk := range m.Runtimes[f] {
			for _, sc := range rk.StemCells {
				k := Key{Kind: rk.Kind, Memory: sc.Memory}
				if i, ok := index[k]; ok {
					out[i].InitialCount += sc.InitialCount
					continue
				}
				index[k] = len(out)
				out = append(out, Cell{Key: k, Image: rk.Image, InitialCount: sc.InitialCount, Reactive: sc.Reactive})
			}
		}
	}
	return out
}
