package store

import (
	"errors"
	"testing"
	"time"
)

// held is how long a read is given to show that it waits; the read must
// not return within it.
const held = 50 * time.Millisecond

// Reads wait for the records promised before them, and then see them.
func TestReadsWaitForPromisedRecords(t *testing.T) {
	s := open(t, t.TempDir(), Options{})
	defer s.Close()
	rec := record("guest", "hello", id(1), 1000)
	p := s.Promise()
	got := make(chan *Activation, 1)
	listed := make(chan int, 1)
	go func() {
		r, err := s.GetActivation("guest", id(1))
		if err != nil {
			t.Error(err)
		}
		got <- r
	}()
	go func() {
		l, err := s.ListActivations(Query{Namespace: "guest"})
		if err != nil {
			t.Error(err)
		}
		listed <- len(l)
	}()
	select {
	case r := <-got:
		t.Fatalf("GetActivation returned %+v before the promise was kept", r)
	case n := <-listed:
		t.Fatalf("ListActivations returned %d records before the promise was kept", n)
	case <-time.After(held):
	}
	rec.Logs = []string{"late line"}
	done := p.Keep(rec)
	if r := <-got; r == nil || len(r.Logs) != 1 || r.Logs[0] != "late line" {
		t.Fatalf("GetActivation after Keep = %+v, want the record with its logs", r)
	}
	if n := <-listed; n != 1 {
		t.Fatalf("ListActivations after Keep = %d records, want 1", n)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// A broken promise releases its readers without a record.
func TestBrokenPromiseReleasesReaders(t *testing.T) {
	s := open(t, t.TempDir(), Options{})
	defer s.Close()
	p := s.Promise()
	got := make(chan error, 1)
	go func() {
		_, err := s.GetActivation("guest", id(1))
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("GetActivation returned (%v) before the promise ended", err)
	case <-time.After(held):
	}
	p.Break()
	p.Break() // a second end is a no-op
	if err := <-got; !errors.Is(err, ErrNotFound) {
		t.Fatalf("GetActivation after Break: %v, want ErrNotFound", err)
	}
}

// A read does not wait for promises made after it started: only earlier
// ones can hold what the reader was told about.
func TestReadsIgnoreLaterPromises(t *testing.T) {
	s := open(t, t.TempDir(), Options{})
	defer s.Close()
	mustComplete(t, s, record("guest", "hello", id(1), 1000))
	p := s.Promise()
	defer p.Break()
	s.promMu.Lock()
	delete(s.promises, p) // as if made after the read below took its snapshot
	s.promMu.Unlock()
	if _, err := s.GetActivation("guest", id(1)); err != nil {
		t.Fatal(err)
	}
}

// A promise that is never kept holds reads back only for PromiseWait.
func TestReadsGiveUpOnStuckPromises(t *testing.T) {
	s := open(t, t.TempDir(), Options{PromiseWait: held})
	defer s.Close()
	mustComplete(t, s, record("guest", "hello", id(1), 1000))
	p := s.Promise()
	defer p.Break()
	start := time.Now()
	if _, err := s.GetActivation("guest", id(1)); err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited < held {
		t.Fatalf("the read waited %v, want at least %v for the promise", waited, held)
	}
}
