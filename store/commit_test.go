package store

import (
	"testing"
	"time"
)

// Records nobody waits for share a commit with whatever follows them
// within CommitDelay; a write somebody waits for takes them along at once.
func TestRecordsWaitForCompanyUntilAWaitedWrite(t *testing.T) {
	s := open(t, t.TempDir(), Options{CommitDelay: time.Hour})
	defer s.Close()
	before := s.commits.Load()
	first, second := s.Complete(record("guest", "a", id(1), 1000)), s.Complete(record("guest", "a", id(2), 1001))
	if err := s.PutPending(record("guest", "a", id(3), 1002)); err != nil {
		t.Fatal(err)
	}
	for i, done := range []<-chan error{first, second} {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("record %d: %v", i+1, err)
			}
		default:
			t.Fatalf("record %d not committed with the pending record after it", i+1)
		}
	}
	if n := s.commits.Load() - before; n != 1 {
		t.Fatalf("%d commits for two records and a pending one, want 1 (an hour's delay, ended by the waited write)", n)
	}
}

func TestLoneRecordIsCommittedAfterTheDelay(t *testing.T) {
	s := open(t, t.TempDir(), Options{CommitDelay: time.Millisecond})
	defer s.Close()
	mustComplete(t, s, record("guest", "a", id(1), 1000))
	if _, err := s.GetActivation("guest", id(1)); err != nil {
		t.Fatal(err)
	}
}

// Close commits what waits for company, however long the delay.
func TestCloseCommitsWaitingRecords(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, Options{CommitDelay: time.Hour})
	done := s.Complete(record("guest", "a", id(1), 1000))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	s = open(t, dir, Options{})
	defer s.Close()
	if _, err := s.GetActivation("guest", id(1)); err != nil {
		t.Fatalf("after a restart: %v", err)
	}
}
