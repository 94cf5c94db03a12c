package pool

import (
	"strings"
	"testing"

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
	var b buffer
	mk := func(id string, m int64) *pending {
		p := &pending{}
		p.act.ID = id
		p.act.Action.Limits.Memory = config.ByteSize(m) * mb
		return p
	}
	b.pushBack(mk("a", 512))
	b.pushBack(mk("b", 128))
	b.pushFront(mk("bounced", 256))
	if b.len() != 3 || b.mem != 896*mb {
		t.Fatalf("len %d mem %d MB, want 3 and 896", b.len(), b.mem.MBs())
	}
	var got []string
	for b.head() != nil {
		got = append(got, b.popHead().act.ID)
	}
	if strings.Join(got, ",") != "bounced,a,b" || b.mem != 0 || b.popHead() != nil {
		t.Fatalf("order %v mem %d, want bounced,a,b and 0", got, b.mem)
	}
}
