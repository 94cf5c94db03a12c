package route

import (
	"testing"

	"github.com/stemcell-io/stemcell/config"
)

func TestInFlight(t *testing.T) {
	const mb = config.MB
	s1 := Invoker{ID: "a", Incarnation: 1, Revision: 10}
	s2 := Invoker{ID: "a", Incarnation: 1, Revision: 11} // its next snapshot
	r2 := Invoker{ID: "a", Incarnation: 2, Revision: 10} // re-registered, same revision number

	t.Run("sent adds up against the snapshot", func(t *testing.T) {
		f, t1 := InFlight{}.Sent(s1, 256*mb)
		f, t2 := f.Sent(s1, 128*mb)
		if f.Count != 2 || f.Against(s1) != 384*mb {
			t.Fatalf("got %+v, want 2 and 384 MB against revision 10", f)
		}
		if t1 != (Ticket{"a", 1, 10, 256 * mb}) || t2.Memory != 128*mb {
			t.Errorf("tickets %+v %+v", t1, t2)
		}
	})
	t.Run("a newer snapshot shows what was sent: nothing counts against it", func(t *testing.T) {
		f, _ := InFlight{}.Sent(s1, 256*mb)
		if got := f.Against(s2); got != 0 {
			t.Errorf("against the next snapshot: %s, want 0", got)
		}
		if got := f.Observed(s2); got.Count != 0 || got.Memory != 0 || got.Revision != 11 {
			t.Errorf("Observed = %+v, want empty at revision 11", got)
		}
		if got := f.Observed(s1); got != f {
			t.Errorf("Observed of the same snapshot = %+v, want %+v", got, f)
		}
	})
	t.Run("a new incarnation is a new snapshot", func(t *testing.T) {
		f, _ := InFlight{}.Sent(s1, 256*mb)
		if got := f.Against(r2); got != 0 {
			t.Errorf("against a new incarnation: %s, want 0", got)
		}
	})
	t.Run("sent after a newer snapshot starts afresh", func(t *testing.T) {
		f, _ := InFlight{}.Sent(s1, 256*mb)
		f, tk := f.Sent(s2, 128*mb)
		if f.Count != 1 || f.Against(s2) != 128*mb || tk.Revision != 11 {
			t.Errorf("got %+v %+v, want one of 128 MB against revision 11", f, tk)
		}
	})
	t.Run("answered before the next snapshot is taken back", func(t *testing.T) {
		f, t1 := InFlight{}.Sent(s1, 256*mb)
		f, _ = f.Sent(s1, 128*mb)
		f = f.Answered(t1)
		if f.Count != 1 || f.Against(s1) != 128*mb {
			t.Errorf("got %+v, want one of 128 MB", f)
		}
	})
	t.Run("answered after the next snapshot is not taken twice", func(t *testing.T) {
		f, t1 := InFlight{}.Sent(s1, 256*mb)
		f, _ = f.Sent(s2, 128*mb) // the snapshot of revision 11 already shows t1
		f = f.Answered(t1)
		if f.Count != 1 || f.Against(s2) != 128*mb {
			t.Errorf("got %+v, want the 128 MB sent after revision 11 kept", f)
		}
	})
	t.Run("answered twice is taken back once", func(t *testing.T) {
		f, t1 := InFlight{}.Sent(s1, 256*mb)
		f = f.Answered(t1).Answered(t1)
		if f.Count != 0 || f.Memory != 0 {
			t.Errorf("got %+v, want empty", f)
		}
	})
	t.Run("a ticket bigger than the memory left does not go below zero", func(t *testing.T) {
		f, _ := InFlight{}.Sent(s1, 128*mb)
		f, _ = f.Sent(s1, 128*mb)
		f = f.Answered(Ticket{"a", 1, 10, 512 * mb})
		if f.Count != 1 || f.Memory != 0 {
			t.Errorf("got %+v, want one left with 0 B", f)
		}
	})
}

func TestLedger(t *testing.T) {
	const mb = config.MB
	a1 := Invoker{ID: "a", Incarnation: 1, Revision: 1}
	a2 := Invoker{ID: "a", Incarnation: 1, Revision: 2}
	b1 := Invoker{ID: "b", Incarnation: 1, Revision: 1}

	var empty Ledger
	if got := empty.InFlight(a1); got != 0 {
		t.Errorf("nil ledger: %s, want 0", got)
	}
	empty.Observed(a1) // reads only: must not panic on nil
	empty.Answered(Ticket{Invoker: "a"})
	empty.Forget("a")

	l := Ledger{}
	ta := l.Sent(a1, 256*mb)
	tb := l.Sent(b1, 512*mb)
	if l.InFlight(a1) != 256*mb || l.InFlight(b1) != 512*mb {
		t.Fatalf("after Sent: %v", l)
	}
	l.Observed(b1) // the same snapshot again: kept
	if l.InFlight(b1) != 512*mb {
		t.Errorf("Observed of the same snapshot dropped b: %v", l)
	}
	l.Observed(a2)
	if _, ok := l["a"]; ok || l.InFlight(a2) != 0 {
		t.Errorf("Observed of a newer snapshot kept a: %v", l)
	}
	l.Answered(ta) // a is gone already
	if len(l) != 1 {
		t.Errorf("Answered of a forgotten ticket: %v", l)
	}
	l.Answered(tb)
	if len(l) != 0 {
		t.Errorf("Answered of the last ticket left %v", l)
	}
	l.Sent(b1, mb)
	l.Forget("b")
	if len(l) != 0 {
		t.Errorf("Forget left %v", l)
	}
}
