package pool

import (
	"slices"
	"testing"

	"github.com/stemcell-io/stemcell/config"
)

func TestPlanAhead(t *testing.T) {
	type idle struct {
		name  string
		mb    int64
		ident string
	}
	type job struct {
		mb    int64 // 0: may start without new memory
		ident string
	}
	// Idle containers, least recently used first.
	lru := []idle{{"a", 256, "A"}, {"b", 256, "B"}, {"c", 256, "C"}, {"d", 256, "D"}}
	tests := []struct {
		name      string
		availMB   int64
		lru       []idle
		jobs      []job
		want      []string
		wantFor   []int
		evictable int64 // MB; 0: the sum of lru
	}{
		{name: "head alone, as planEviction", availMB: 0, lru: lru,
			jobs: []job{{256, "X"}}, want: []string{"a"}, wantFor: []int{0}},
		{name: "head and two behind: their removals overlap", availMB: 0, lru: lru,
			jobs: []job{{256, "X"}, {256, "Y"}, {256, "Z"}}, want: []string{"a", "b", "c"}, wantFor: []int{0, 1, 2}},
		{name: "memory on its way back covers the head: evict for the next", availMB: 256, lru: lru,
			jobs: []job{{256, "X"}, {256, "Y"}}, want: []string{"a"}, wantFor: []int{1}},
		{name: "everything covered: nothing", availMB: 1024, lru: lru,
			jobs: []job{{256, "X"}, {512, "Y"}, {256, "Z"}}, want: nil},
		{name: "never the container a job ahead could use warm", availMB: 256, lru: lru,
			jobs: []job{{256, "X"}, {0, "A"}, {256, "Y"}}, want: []string{"b"}, wantFor: []int{2}},
		{name: "nor the job's own identity", availMB: 0, lru: lru,
			jobs: []job{{256, "X"}, {256, "B"}}, want: []string{"a", "c"}, wantFor: []int{0, 1}},
		{name: "a job behind may lose its warm container to the head", availMB: 0, lru: lru,
			jobs: []job{{256, "X"}, {0, "A"}}, want: []string{"a"}, wantFor: []int{0}},
		{name: "a job that cannot fit stops the plan, keeping what those ahead need", availMB: 0, lru: lru,
			jobs: []job{{256, "X"}, {1024, "Y"}, {256, "Z"}}, want: []string{"a"}, wantFor: []int{0}},
		{name: "the head cannot fit: nothing at all", availMB: 0, lru: lru[:1],
			jobs: []job{{512, "X"}, {128, "Y"}}, want: nil},
		{name: "protected containers do not count: the job stops the plan", availMB: 0, lru: lru,
			jobs: []job{{256, "X"}, {0, "B"}, {0, "C"}, {0, "D"}, {512, "Y"}}, want: []string{"a"}, wantFor: []int{0}},
		{name: "a large job takes several", availMB: 128, lru: lru,
			jobs: []job{{128, "X"}, {600, "Y"}}, want: []string{"a", "b", "c"}, wantFor: []int{1, 1, 1}},
		{name: "jobs needing nothing are skipped", availMB: 0, lru: lru,
			jobs: []job{{256, "X"}, {0, "P"}, {0, "Q"}, {256, "Y"}}, want: []string{"a", "b"}, wantFor: []int{0, 3}},
		{name: "evictable overstated: stop at the job it cannot cover", availMB: 0, lru: lru[:2], evictable: 2048,
			jobs: []job{{256, "X"}, {512, "Y"}}, want: []string{"a"}, wantFor: []int{0}},
		{name: "no jobs", availMB: 0, lru: lru, jobs: nil, want: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var evictable config.ByteSize
			for _, c := range tc.lru {
				evictable += config.ByteSize(c.mb) * mb
			}
			if tc.evictable != 0 {
				evictable = config.ByteSize(tc.evictable) * mb
			}
			jobs := make([]aheadJob[string], len(tc.jobs))
			for i, j := range tc.jobs {
				jobs[i] = aheadJob[string]{Need: config.ByteSize(j.mb) * mb, Ident: j.ident}
			}
			victims, forJob := planAhead(config.ByteSize(tc.availMB)*mb, evictable, jobs, slices.Values(tc.lru),
				func(c idle) config.ByteSize { return config.ByteSize(c.mb) * mb }, func(c idle) string { return c.ident })
			var got []string
			for _, v := range victims {
				got = append(got, v.name)
			}
			if !slices.Equal(got, tc.want) || !slices.Equal(forJob, tc.wantFor) {
				t.Fatalf("planAhead = %v for jobs %v, want %v for %v", got, forJob, tc.want, tc.wantFor)
			}
			// Never more than the jobs in view need: without its last
			// victim, the plan would fall short.
			if n := len(victims); n > 0 {
				var need, freed config.ByteSize
				for _, j := range jobs[:forJob[n-1]+1] {
					need += j.Need
				}
				for _, v := range victims[:n-1] {
					freed += config.ByteSize(v.mb) * mb
				}
				if config.ByteSize(tc.availMB)*mb+freed >= need {
					t.Fatalf("victim %s was not needed: %d MB available and %d MB evicted before it cover %d MB",
						victims[n-1].name, tc.availMB, freed.MBs(), need.MBs())
				}
			}
		})
	}
}
