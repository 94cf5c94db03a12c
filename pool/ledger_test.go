package pool

import (
	"strings"
	"testing"
	"time"

	"github.com/stemcell-io/stemcell/config"
)

func TestLedger(t *testing.T) {
	l := newLedger(1024 * mb)
	steps := []struct {
		name    string
		do      func() error
		wantErr string
		used    int64 // MB after the step
	}{
		{"reserve a stem cell", func() error { return l.add(memStarting, 256*mb) }, "", 256},
		{"stem cell ready", func() error { l.move(memStarting, memPrewarmed, 256*mb); return nil }, "", 256},
		{"cold container", func() error { return l.add(memStarting, 512*mb) }, "", 768},
		{"over budget is refused", func() error { return l.add(memStarting, 512*mb) }, "container-pool.user-memory is 1024 MB", 768},
		{"exact fit", func() error { return l.add(memStarting, 256*mb) }, "", 1024},
		{"one byte more is refused", func() error { return l.add(memStarting, 1) }, "refused", 1024},
		{"negative is refused", func() error { return l.add(memStarting, -1) }, "must be >= 0", 1024},
		{"busy to removing keeps the memory", func() error { l.move(memStarting, memRemoving, 512*mb); return nil }, "", 1024},
		{"removed returns it", func() error { l.release(memRemoving, 512*mb); return nil }, "", 512},
	}
	for _, st := range steps {
		err := st.do()
		switch {
		case st.wantErr == "" && err != nil:
			t.Fatalf("%s: unexpected error %v", st.name, err)
		case st.wantErr != "" && (err == nil || !strings.Contains(err.Error(), st.wantErr)):
			t.Fatalf("%s: error %v, want one containing %q", st.name, err, st.wantErr)
		}
		if got := l.used.MBs(); got != st.used {
			t.Fatalf("%s: used %d MB, want %d", st.name, got, st.used)
		}
		if err := l.check(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
	}
	if got := l.free().MBs(); got != 512 {
		t.Fatalf("free = %d MB, want 512", got)
	}
}

func TestBufferFIFO(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	mk := func(id string, m int64, arrived int) *pending {
		p := &pending{}
		p.act.ID = id
		p.act.Action.Limits.Memory = config.ByteSize(m) * mb
		p.act.Arrived = t0.Add(time.Duration(arrived) * time.Second)
		return p
	}
	tests := []struct {
		name    string
		back    []*pending
		bounced []*pending // in the order they come back
		want    string
	}{
		{"bounced goes ahead of later arrivals", []*pending{mk("a", 512, 5), mk("b", 128, 6)}, []*pending{mk("x", 256, 1)}, "x,a,b"},
		{"bounced together keep their order", []*pending{mk("a", 512, 5)}, []*pending{mk("x", 256, 1), mk("y", 256, 2)}, "x,y,a"},
		{"bounced in reverse still sorted", []*pending{mk("a", 512, 5)}, []*pending{mk("y", 256, 2), mk("x", 256, 1)}, "x,y,a"},
		{"same instant: the bounced one first", []*pending{mk("a", 512, 1)}, []*pending{mk("x", 256, 1)}, "x,a"},
		{"into an empty buffer", nil, []*pending{mk("x", 256, 1)}, "x"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b buffer
			var sum config.ByteSize
			for _, p := range tc.back {
				b.pushBack(p)
				sum += p.memory()
			}
			for _, p := range tc.bounced {
				b.pushFront(p)
				sum += p.memory()
			}
			if b.mem != sum || b.len() != len(tc.back)+len(tc.bounced) {
				t.Fatalf("len %d mem %d MB, want %d and %d", b.len(), b.mem.MBs(), len(tc.back)+len(tc.bounced), sum.MBs())
			}
			var got []string
			for b.head() != nil {
				got = append(got, b.popHead().act.ID)
			}
			if strings.Join(got, ",") != tc.want || b.mem != 0 || b.popHead() != nil {
				t.Fatalf("order %v mem %d, want %s and 0", got, b.mem, tc.want)
			}
		})
	}
}
