package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// clock is a settable time source.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

var t0 = time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)

func open(t *testing.T, dir string, opts Options) *Store {
	t.Helper()
	s, err := Open(dir, opts)
	if err != nil {
		t.Fatalf("Open(%q): %v", dir, err)
	}
	return s
}

func record(ns, path, id string, start int64) *Activation {
	name := path[strings.LastIndexByte(path, '/')+1:]
	return &Activation{
		Namespace: ns, Name: name, Version: "0.0.1", Subject: ns, ActivationID: id,
		Start: start, End: start + 5, Duration: 5,
		Response:    Response{Status: "success", Success: true, Result: json.RawMessage(`{"ok":true}`)},
		Logs:        []string{"2024-06-01T12:00:00.000000000Z stdout: hi"},
		Annotations: []KeyValue{{Key: "path", Value: json.RawMessage(fmt.Sprintf("%q", ns+"/"+path))}},
	}
}

func id(n int) string { return fmt.Sprintf("%032x", n) }

func mustComplete(t *testing.T, s *Store, rec *Activation) {
	t.Helper()
	if err := <-s.Complete(rec); err != nil {
		t.Fatalf("Complete(%s): %v", rec.ActivationID, err)
	}
}

func TestRestartKeepsActionsAndActivations(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, Options{})
	code := "function main(){}"
	_, err := s.PutAction("guest", "hello", func(old *Action) (*Action, error) {
		if old != nil {
			t.Errorf("PutAction on an empty store passed old = %+v", old)
		}
		return &Action{Namespace: "guest", Name: "hello", Version: "0.0.1", Exec: Exec{Kind: "js:goja", Code: &code}}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Complete returns before the commit; Close must still commit it.
	s.Complete(record("guest", "hello", id(1), t0.UnixMilli()))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = open(t, dir, Options{})
	defer s.Close()
	a, err := s.GetAction("guest", "hello")
	if err != nil {
		t.Fatalf("after restart: %v", err)
	}
	if a.Exec.Code == nil || *a.Exec.Code != code {
		t.Errorf("after restart code = %v, want %q", a.Exec.Code, code)
	}
	rec, err := s.GetActivation("guest", id(1))
	if err != nil {
		t.Fatalf("after restart: %v", err)
	}
	if rec.Response.Status != "success" || len(rec.Logs) != 1 {
		t.Errorf("after restart record = %+v", rec)
	}
}

func TestPendingBecomesInternalErrorAfterRestart(t *testing.T) {
	dir := t.TempDir()
	clk := &clock{now: t0}
	s := open(t, dir, Options{Now: clk.Now})
	pending := record("guest", "hello", id(7), t0.UnixMilli())
	pending.End, pending.Duration, pending.Response, pending.Logs = 0, 0, Response{}, nil
	if err := s.PutPending(pending); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetActivation("guest", id(7)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a pending activation must not be served: err = %v", err)
	}
	// A "crash": no completion, and the process goes away.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	clk.set(t0.Add(3 * time.Second))
	s = open(t, dir, Options{Now: clk.Now})
	defer s.Close()
	rec, err := s.GetActivation("guest", id(7))
	if err != nil {
		t.Fatalf("pending activation missing after restart: %v", err)
	}
	var res map[string]string
	if err := json.Unmarshal(rec.Response.Result, &res); err != nil {
		t.Fatal(err)
	}
	if rec.Response.Status != "whisk internal error" || rec.Response.Success || res["error"] != MsgStopped {
		t.Errorf("recovered record response = %+v %s, want whisk internal error with %q", rec.Response, rec.Response.Result, MsgStopped)
	}
	if rec.End != t0.Add(3*time.Second).UnixMilli() || rec.Duration != 3000 {
		t.Errorf("recovered end/duration = %d/%d", rec.End, rec.Duration)
	}
	list, err := s.ListActivations(Query{Namespace: "guest"})
	if err != nil || len(list) != 1 {
		t.Fatalf("list after recovery = %d records, %v", len(list), err)
	}
}

func TestCompletedActivationIsNotRecoveredAsPending(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, Options{})
	rec := record("guest", "hello", id(3), t0.UnixMilli())
	// Pending, then completed: the pending mark goes away.
	if err := s.PutPending(rec); err != nil {
		t.Fatal(err)
	}
	mustComplete(t, s, rec)
	// Completed first, then a late pending write: it must not resurrect.
	rec2 := record("guest", "hello", id(4), t0.UnixMilli()+1)
	mustComplete(t, s, rec2)
	if err := s.PutPending(rec2); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, dir, Options{})
	defer s.Close()
	for _, i := range []string{id(3), id(4)} {
		got, err := s.GetActivation("guest", i)
		if err != nil {
			t.Fatal(err)
		}
		if got.Response.Status != "success" {
			t.Errorf("activation %s status = %q after restart, want success", i, got.Response.Status)
		}
	}
}

func TestListActivations(t *testing.T) {
	s := open(t, t.TempDir(), Options{})
	defer s.Close()
	base := t0.UnixMilli()
	for i := range 10 {
		path := "hello"
		if i%2 == 1 {
			path = "pkg/other"
		}
		s.Complete(record("guest", path, id(i), base+int64(i)*1000))
	}
	s.Complete(record("alice", "hello", id(100), base+500))

	ids := func(list []Activation) []string {
		var out []string
		for _, a := range list {
			out = append(out, a.ActivationID[28:])
		}
		return out
	}
	tests := []struct {
		name string
		q    Query
		want []string
	}{
		{"all newest first", Query{Namespace: "guest"}, []string{"0009", "0008", "0007", "0006", "0005", "0004", "0003", "0002", "0001", "0000"}},
		{"limit", Query{Namespace: "guest", Limit: 3}, []string{"0009", "0008", "0007"}},
		{"skip and limit", Query{Namespace: "guest", Skip: 8, Limit: 5}, []string{"0001", "0000"}},
		{"skip past end", Query{Namespace: "guest", Skip: 20}, nil},
		{"name", Query{Namespace: "guest", Name: "pkg/other", Limit: 2}, []string{"0009", "0007"}},
		{"since inclusive", Query{Namespace: "guest", Since: base + 7000}, []string{"0009", "0008", "0007"}},
		{"upto inclusive", Query{Namespace: "guest", Upto: base + 2000}, []string{"0002", "0001", "0000"}},
		{"since and upto", Query{Namespace: "guest", Since: base + 3000, Upto: base + 4000}, []string{"0004", "0003"}},
		{"other namespace", Query{Namespace: "alice"}, []string{"0064"}},
		{"unknown namespace", Query{Namespace: "bob"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			list, err := s.ListActivations(tt.q)
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(list); fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("ids = %v, want %v", got, tt.want)
			}
			n, err := s.CountActivations(tt.q)
			if err != nil {
				t.Fatal(err)
			}
			q := tt.q
			q.Skip, q.Limit = 0, 0
			all, _ := s.ListActivations(q)
			if n != len(all) {
				t.Errorf("count = %d, unpaged list has %d", n, len(all))
			}
		})
	}
	if _, err := s.GetActivation("alice", id(1)); !errors.Is(err, ErrNotFound) {
		t.Errorf("another namespace's activation: err = %v, want ErrNotFound", err)
	}
}

func TestRetention(t *testing.T) {
	tests := []struct {
		name       string
		age        time.Duration
		count      int
		now        time.Time
		wantKept   int
		wantOldest int // index of the oldest kept record
	}{
		{"nothing configured", 0, 0, t0.Add(time.Hour), 20, 0},
		{"count", 0, 5, t0, 5, 15},
		{"age", 10 * time.Second, 0, t0.Add(25 * time.Second), 5, 15}, // starts at t0+i s; cutoff t0+15s
		{"age and count, count wins", 10 * time.Second, 2, t0.Add(25 * time.Second), 2, 18},
		{"age and count, age wins", 3 * time.Second, 10, t0.Add(20 * time.Second), 3, 17},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			s := open(t, dir, Options{})
			for i := range 20 {
				s.Complete(record("guest", "hello", id(i), t0.Add(time.Duration(i)*time.Second).UnixMilli()))
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			clk := &clock{now: tt.now}
			// Open applies retention.
			s = open(t, dir, Options{RetentionAge: tt.age, RetentionCount: tt.count, Now: clk.Now})
			defer s.Close()
			list, err := s.ListActivations(Query{Namespace: "guest"})
			if err != nil {
				t.Fatal(err)
			}
			if len(list) != tt.wantKept {
				t.Fatalf("kept %d records, want %d", len(list), tt.wantKept)
			}
			if got := list[len(list)-1].ActivationID; got != id(tt.wantOldest) {
				t.Errorf("oldest kept = %s, want %s", got, id(tt.wantOldest))
			}
			for i := range tt.wantOldest {
				if _, err := s.GetActivation("guest", id(i)); !errors.Is(err, ErrNotFound) {
					t.Errorf("pruned record %d still readable: %v", i, err)
				}
			}
		})
	}
}

func TestActionsCRUDAndList(t *testing.T) {
	s := open(t, t.TempDir(), Options{})
	defer s.Close()
	for i, p := range []string{"a", "b", "pkg/c", "pkg/d"} {
		_, err := s.PutAction("guest", p, func(*Action) (*Action, error) {
			return &Action{Namespace: "guest", Name: p, Updated: int64(i)}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	_, _ = s.PutAction("alice", "x", func(*Action) (*Action, error) { return &Action{Name: "x"}, nil })
	wantErr := errors.New("refused")
	if _, err := s.PutAction("guest", "a", func(old *Action) (*Action, error) { return nil, wantErr }); !errors.Is(err, wantErr) {
		t.Errorf("PutAction refusal: err = %v", err)
	}
	tests := []struct {
		pkg         string
		skip, limit int
		want        string
		total       int
	}{
		{"", 0, 0, "[pkg/d pkg/c b a]", 4},
		{"", 1, 2, "[pkg/c b]", 4},
		{"pkg", 0, 0, "[pkg/d pkg/c]", 2},
		{"nope", 0, 0, "[]", 0},
	}
	for _, tt := range tests {
		list, total, err := s.ListActions("guest", tt.pkg, tt.skip, tt.limit)
		if err != nil {
			t.Fatal(err)
		}
		names := []string{}
		for _, a := range list {
			names = append(names, a.Name)
		}
		if fmt.Sprint(names) != tt.want || total != tt.total {
			t.Errorf("ListActions(pkg=%q, %d, %d) = %v (total %d), want %s (total %d)", tt.pkg, tt.skip, tt.limit, names, total, tt.want, tt.total)
		}
	}
	if _, err := s.DeleteAction("guest", "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetAction("guest", "a"); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleted action: err = %v", err)
	}
	if _, err := s.DeleteAction("guest", "a"); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleting twice: err = %v", err)
	}
}

func TestSecondOpenOfSameDirectoryFails(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, Options{})
	defer s.Close()
	if _, err := Open(dir, Options{}); err == nil {
		t.Fatal("a second Open of the same data directory succeeded; bbolt's file lock should refuse it")
	}
}

func TestConcurrentCompletesAreAllStored(t *testing.T) {
	s := open(t, t.TempDir(), Options{})
	defer s.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- <-s.Complete(record("guest", "hello", id(i), t0.UnixMilli()+int64(i)))
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.CountActivations(Query{Namespace: "guest"})
	if err != nil || n != 200 {
		t.Fatalf("count = %d, %v; want 200", n, err)
	}
}
