package runtime

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const mib = 1 << 20

// fakeCgroup is a memory cgroup's files in a temporary directory, laid out
// as a container sees them under cgroup v1 or v2.
type fakeCgroup struct {
	t       testing.TB
	root    string // what OpenMemory is given
	dir     string // where the files are
	v2      bool
	current memSample
}

func newFakeCgroup(t testing.TB, v2 bool, limit string) *fakeCgroup {
	t.Helper()
	f := &fakeCgroup{t: t, root: t.TempDir(), v2: v2}
	f.dir = f.root
	limitFile := "memory.max"
	if !v2 {
		f.dir = filepath.Join(f.root, "memory")
		limitFile = "memory.limit_in_bytes"
		if err := os.Mkdir(f.dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	f.write(limitFile, limit+"\n")
	f.set(memSample{usage: 20 * mib, anon: 2 * mib})
	return f
}

// write replaces a file atomically: the sampler may be reading it.
func (f *fakeCgroup) write(name, content string) {
	f.t.Helper()
	tmp := filepath.Join(f.dir, "."+name+".tmp")
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		f.t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(f.dir, name)); err != nil {
		f.t.Fatal(err)
	}
}

// eventsFile returns the OOM kill counter's file and its content for n
// kills.
func (f *fakeCgroup) eventsFile(n int64) (path, content string) {
	if f.v2 {
		return filepath.Join(f.dir, "memory.events"), fmt.Sprintf("low 0\nhigh 0\nmax 12\noom 1\noom_kill %d\n", n)
	}
	return filepath.Join(f.dir, "memory.oom_control"), fmt.Sprintf("oom_kill_disable 0\nunder_oom 0\noom_kill %d\n", n)
}

// set writes a sample: usage, memory.stat and the OOM kill count.
func (f *fakeCgroup) set(s memSample) {
	f.t.Helper()
	f.current = s
	path, events := f.eventsFile(s.oomKills)
	if f.v2 {
		f.write("memory.current", fmt.Sprintf("%d\n", s.usage))
		f.write("memory.stat", fmt.Sprintf("anon %d\nfile 4096\nshmem 0\npgfault 100\npgmajfault %d\n", s.anon, s.majFaults))
	} else {
		f.write("memory.usage_in_bytes", fmt.Sprintf("%d\n", s.usage))
		f.write("memory.stat", fmt.Sprintf("cache 4096\nrss 1\ntotal_cache 4096\ntotal_rss %d\ntotal_shmem 0\ntotal_pgmajfault %d\n", s.anon, s.majFaults))
	}
	f.write(filepath.Base(path), events)
}

func TestOpenMemory(t *testing.T) {
	tests := []struct {
		name    string
		v2      bool
		limit   string
		want    int64
		wantErr string
	}{
		{name: "v1", limit: "134217728", want: 128 * mib},
		{name: "v2", v2: true, limit: "134217728", want: 128 * mib},
		{name: "v1 without a limit", limit: "9223372036854771712", wantErr: "the memory cgroup has no limit"},
		{name: "v2 without a limit", v2: true, limit: "max", wantErr: "the memory cgroup has no limit"},
		{name: "v1 limit not a number", limit: "lots", wantErr: `memory.limit_in_bytes: "lots" is not a byte count`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeCgroup(t, tt.v2, tt.limit)
			m, err := OpenMemory(f.root)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m.Limit() != tt.want {
				t.Errorf("Limit = %d, want %d", m.Limit(), tt.want)
			}
			want := memSample{usage: 100 * mib, anon: 90 * mib, majFaults: 1234, oomKills: 2}
			f.set(want)
			got, err := m.cg.sample()
			if err != nil || got != want {
				t.Errorf("sample = %+v, %v; want %+v", got, err, want)
			}
		})
	}
	t.Run("no cgroup", func(t *testing.T) {
		root := t.TempDir()
		_, err := OpenMemory(root)
		if err == nil || !strings.Contains(err.Error(), "no memory cgroup under "+root) {
			t.Fatalf("err = %v, want one naming %s", err, root)
		}
	})
}

// TestMemoryBudget pins the figures of a 128 MiB container, OpenWhisk's
// smallest and most common action.
func TestMemoryBudget(t *testing.T) {
	m := newMemory(nil, 128*mib)
	if m.GoMemoryLimit() != 104*mib {
		t.Errorf("Go memory limit = %d MiB, want 104", m.GoMemoryLimit()/mib)
	}
	if m.heapAbort < 90*mib || m.heapAbort >= m.goLimit {
		t.Errorf("heap abort = %d, want between 90 MiB and the Go limit %d", m.heapAbort, m.goLimit)
	}
	if small := newMemory(nil, 32*mib); small.goLimit != 16*mib {
		t.Errorf("a 32 MiB container's Go limit = %d, want half of it", small.goLimit)
	}
}

func TestThrashRule(t *testing.T) {
	rule := newMemory(nil, 128*mib).thrash
	pinned := func(ms int, faults int64) timedTestSample {
		return timedTestSample{ms, memSample{usage: 127 * mib, anon: 126 * mib, majFaults: faults}}
	}
	tests := []struct {
		name    string
		samples []timedTestSample
		want    int // index of the first sample judged thrashing; -1: none
	}{
		{name: "at the limit and reading code back for a window",
			samples: []timedTestSample{pinned(0, 100), pinned(500, 400), pinned(1000, 900)}, want: 2},
		{name: "not yet a window",
			samples: []timedTestSample{pinned(0, 100), pinned(500, 5000), pinned(900, 9000)}, want: -1},
		{name: "at the limit without faults",
			samples: []timedTestSample{pinned(0, 100), pinned(1000, 110), pinned(2000, 120)}, want: -1},
		{name: "faulting below the limit",
			samples: []timedTestSample{{0, memSample{usage: 100 * mib, anon: 99 * mib}}, {1000, memSample{usage: 100 * mib, anon: 99 * mib, majFaults: 9000}}}, want: -1},
		{name: "full of page cache, little anonymous memory",
			samples: []timedTestSample{{0, memSample{usage: 127 * mib, anon: 40 * mib}}, {1000, memSample{usage: 127 * mib, anon: 40 * mib, majFaults: 9000}}}, want: -1},
		{name: "a dip below the limit starts the window again",
			samples: []timedTestSample{pinned(0, 0), pinned(500, 600), {800, memSample{usage: 60 * mib, anon: 50 * mib, majFaults: 700}},
				pinned(1000, 800), pinned(1500, 1400), pinned(2000, 2000)}, want: 5},
		{name: "a slow trickle over a long time",
			samples: []timedTestSample{pinned(0, 0), pinned(1000, 100), pinned(2000, 200), pinned(3000, 300), pinned(4000, 400)}, want: -1},
		{name: "a burst older than the window does not count",
			samples: []timedTestSample{pinned(0, 0), pinned(500, 1000), pinned(1600, 1010), pinned(2600, 1020)}, want: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := thrashState{rule: rule}
			t0 := time.Unix(1700000000, 0)
			got := -1
			for i, s := range tt.samples {
				if st.observe(t0.Add(time.Duration(s.ms)*time.Millisecond), s.s) && got < 0 {
					got = i
				}
			}
			if got != tt.want {
				t.Fatalf("first thrashing sample = %d, want %d", got, tt.want)
			}
		})
	}
}

type timedTestSample struct {
	ms int
	s  memSample
}

func TestHeapRule(t *testing.T) {
	const abort, goLimit = 90 * mib, 100 * mib
	tests := []struct {
		name      string
		start     heapStats // when watching began
		now       heapStats // at this sample
		afterGC   heapStats // what a forced collection measures
		want      bool
		wantForce bool
	}{
		{name: "small heap", start: heapStats{live: 10 * mib, cycles: 5}, now: heapStats{live: 10 * mib, objects: 20 * mib, cycles: 6}},
		{name: "live heap measured full", start: heapStats{cycles: 5}, now: heapStats{live: 95 * mib, objects: 99 * mib, cycles: 6}, want: true},
		{name: "a full figure from before watching is measured again",
			start: heapStats{live: 95 * mib, cycles: 5}, now: heapStats{live: 95 * mib, objects: 95 * mib, cycles: 5},
			afterGC: heapStats{live: 2 * mib, objects: 2 * mib, cycles: 6}, wantForce: true},
		{name: "an old full figure with a small heap is not believed",
			start: heapStats{live: 95 * mib, cycles: 5}, now: heapStats{live: 95 * mib, objects: 3 * mib, cycles: 5}},
		{name: "one huge allocation and no collection since",
			start: heapStats{live: 5 * mib, cycles: 5}, now: heapStats{live: 5 * mib, objects: 300 * mib, cycles: 5},
			afterGC: heapStats{live: 300 * mib, objects: 300 * mib, cycles: 6}, want: true, wantForce: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cur := tt.start
			forced := false
			m := &Memory{goLimit: goLimit, heapAbort: abort, heap: func() heapStats { return cur }, gc: func() { forced = true; cur = tt.afterGC }}
			hw := m.newHeapWatch()
			cur = tt.now
			got, _ := m.heapExhausted(&hw)
			if got != tt.want || forced != tt.wantForce {
				t.Fatalf("exhausted = %v (forced collection %v), want %v (%v)", got, forced, tt.want, tt.wantForce)
			}
		})
	}
}
