package front

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stemcell-io/stemcell/route"
	"github.com/stemcell-io/stemcell/server"
	"github.com/stemcell-io/stemcell/store"
)

// rec is a finished record of guest/hello.
func rec(id string, start int64) store.Activation {
	return store.Activation{
		Namespace: "guest", Name: "hello", Version: "0.0.1", Subject: "guest", ActivationID: id,
		Start: start, End: start + 5, Duration: 5, Logs: []string{"log of " + id},
		Response:    store.Response{Status: "success", Success: true, Result: json.RawMessage(`{"id":"` + id + `"}`)},
		Annotations: []store.KeyValue{{Key: "path", Value: json.RawMessage(`"guest/hello"`)}},
	}
}

// idOf makes a well-formed activation id from a short name.
func idOf(name string) string {
	return fmt.Sprintf("%032x", []byte(name))[:32]
}

// holding serves GET of records and lists over recs as an invoker's store
// would: newest start first, since/upto/skip/limit/count/docs honoured.
func holding(recs ...store.Activation) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		segs := strings.Split(strings.TrimPrefix(r.URL.Path, "/api/v1/namespaces/_/activations"), "/")
		if len(segs) > 1 {
			for _, a := range recs {
				if a.ActivationID != segs[1] {
					continue
				}
				var v any = a
				if len(segs) == 3 && segs[2] == "result" {
					v = a.Response
				}
				_ = json.NewEncoder(w).Encode(v)
				return
			}
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprintf(w, `{"error":%q,"code":"x"}`, server.MsgNotFound)
			return
		}
		q := r.URL.Query()
		num := func(k string, def int64) int64 {
			if n, err := strconv.ParseInt(q.Get(k), 10, 64); err == nil {
				return n
			}
			return def
		}
		var match []store.Activation
		for _, a := range recs {
			if a.Start >= num("since", 0) && a.Start <= num("upto", 1<<62) {
				match = append(match, a)
			}
		}
		if q.Get("count") == "true" {
			fmt.Fprintf(w, `{"activations":%d}`, len(match))
			return
		}
		slices.SortFunc(match, func(a, b store.Activation) int {
			return cmp.Or(cmp.Compare(b.Start, a.Start), strings.Compare(b.ActivationID, a.ActivationID))
		})
		skip, limit := int(num("skip", 0)), int(num("limit", 30))
		match = match[min(skip, len(match)):]
		match = match[:min(limit, len(match))]
		out := make([]any, len(match))
		for i := range match {
			out[i] = match[i].Summarize()
			if q.Get("docs") == "true" {
				out[i] = match[i]
			}
		}
		_ = json.NewEncoder(w).Encode(out)
	}
}

// ids reads the activation ids of a list.
func ids(t *testing.T, r answer) []string {
	t.Helper()
	if r.status != 200 {
		t.Fatalf("list: %d %s", r.status, r.body)
	}
	var list []map[string]any
	if err := json.Unmarshal(r.body, &list); err != nil {
		t.Fatalf("list %s: %v", r.body, err)
	}
	out := make([]string, len(list))
	for i, e := range list {
		out[i], _ = e["activationId"].(string)
	}
	return out
}

func TestActivationFanOut(t *testing.T) {
	a1, a2, b1, f1 := rec(idOf("a1"), 1000), rec(idOf("a2"), 3000), rec(idOf("b1"), 2000), rec(idOf("f1"), 2500)
	fa := newFakeInvoker(t, "inv-a", holding(a1, a2))
	fb := newFakeInvoker(t, "inv-b", holding(b1))
	tf := newTestFront(t, []*fakeInvoker{fa, fb})
	// f1 is the front's own: an activation whose invoker was lost.
	if err := <-tf.store.Complete(&f1); err != nil {
		t.Fatal(err)
	}
	const base = "/api/v1/namespaces/_/activations"

	t.Run("get", func(t *testing.T) {
		g := tf.do("GET", base+"/"+b1.ActivationID, "")
		if g.status != 200 || g.json(t)["activationId"] != b1.ActivationID {
			t.Fatalf("GET b1: %d %s", g.status, g.body)
		}
		sent := fb.requests()
		last := sent[len(sent)-1]
		if last.header.Get("Authorization") != tf.authHeader() || last.header.Get(server.HopHeader) != frontID {
			t.Errorf("GET forwarded without the caller's credentials or the hop header: %v", last.header)
		}
		g = tf.do("GET", base+"/"+b1.ActivationID+"/result", "")
		if g.status != 200 || g.json(t)["status"] != "success" {
			t.Fatalf("GET b1/result: %d %s", g.status, g.body)
		}
		g = tf.do("GET", base+"/"+f1.ActivationID+"/logs", "")
		if g.status != 200 || !strings.Contains(string(g.body), "log of "+f1.ActivationID) {
			t.Fatalf("GET f1/logs: %d %s", g.status, g.body)
		}
		// Counted by path: a lookup of b1 that the front cancelled once
		// another invoker answered may still reach an invoker now.
		for _, r := range append(fa.requests(), fb.requests()...) {
			if strings.Contains(r.path, f1.ActivationID) {
				t.Errorf("a record on the front still asked an invoker: %s", r.path)
			}
		}
		wantError(t, tf.do("GET", base+"/"+idOf("nowhere"), ""), http.StatusNotFound, server.MsgNotFound)
		wantError(t, tf.do("GET", base+"/not-an-id", ""), http.StatusBadRequest)
	})

	t.Run("list", func(t *testing.T) {
		want := []string{a2.ActivationID, f1.ActivationID, b1.ActivationID, a1.ActivationID}
		if got := ids(t, tf.do("GET", base, "")); !slices.Equal(got, want) {
			t.Errorf("list = %v, want %v", got, want)
		}
		r := tf.do("GET", base+"?docs=true&skip=1&limit=2", "")
		if got := ids(t, r); !slices.Equal(got, want[1:3]) {
			t.Errorf("skip=1&limit=2 = %v, want %v", got, want[1:3])
		}
		if !strings.Contains(string(r.body), `"response"`) {
			t.Errorf("docs=true without full records: %s", r.body)
		}
		if got := ids(t, tf.do("GET", base+"?since=1500&upto=2600", "")); !slices.Equal(got, []string{f1.ActivationID, b1.ActivationID}) {
			t.Errorf("since=1500&upto=2600 = %v", got)
		}
		c := tf.do("GET", base+"?count=true", "")
		if c.status != 200 || c.json(t)["activations"] != 4.0 {
			t.Errorf("count: %d %s, want 4", c.status, c.body)
		}
		wantError(t, tf.do("GET", base+"?limit=201", ""), http.StatusBadRequest, "not in the range of 0 to 200")
	})

	t.Run("invoker down", func(t *testing.T) {
		fc := newFakeInvoker(t, "inv-c", holding())
		fc.http.Close()
		tf.view.Set([]route.Invoker{invokerOf("inv-a"), invokerOf("inv-b"), invokerOf("inv-c")},
			[]string{fa.http.URL, fb.http.URL, fc.http.URL})
		wantError(t, tf.do("GET", base+"/"+idOf("nowhere"), ""), http.StatusServiceUnavailable, "inv-c: ")
		g := tf.do("GET", base+"/"+a1.ActivationID, "")
		if g.status != 200 {
			t.Errorf("GET a1 with inv-c down: %d %s", g.status, g.body)
		}
		r := tf.do("GET", base, "")
		if got := ids(t, r); len(got) != 4 || r.header.Get(MissingHeader) != "inv-c" {
			t.Errorf("list with inv-c down: %v, %s %q", got, MissingHeader, r.header.Get(MissingHeader))
		}
		c := tf.do("GET", base+"?count=true", "")
		if c.status != 200 || c.json(t)["activations"] != 4.0 || c.header.Get(MissingHeader) != "inv-c" {
			t.Errorf("count with inv-c down: %d %s, %s %q", c.status, c.body, MissingHeader, c.header.Get(MissingHeader))
		}
	})
}

func TestListPagesThroughInvokers(t *testing.T) {
	var onA, onB []store.Activation
	for i := range 250 {
		onA = append(onA, rec(idOf(fmt.Sprintf("a%d", i)), int64(10_000+2*i)))
	}
	for i := range 20 {
		onB = append(onB, rec(idOf(fmt.Sprintf("b%d", i)), int64(10_001+20*i)))
	}
	fa := newFakeInvoker(t, "inv-a", holding(onA...))
	fb := newFakeInvoker(t, "inv-b", holding(onB...))
	tf := newTestFront(t, []*fakeInvoker{fa, fb})
	all := slices.Concat(onA, onB)
	slices.SortFunc(all, func(a, b store.Activation) int { return cmp.Compare(b.Start, a.Start) })
	var want []string
	for _, a := range all[190:240] {
		want = append(want, a.ActivationID)
	}
	got := ids(t, tf.do("GET", "/api/v1/namespaces/_/activations?skip=190&limit=50", ""))
	if !slices.Equal(got, want) {
		t.Fatalf("skip=190&limit=50: got %d ids, want %d; first %v, want %v", len(got), len(want), got[:min(3, len(got))], want[:3])
	}
	// inv-a was asked for 240 in two pages; inv-b's first page was short.
	var queries []string
	for _, s := range fa.requests() {
		queries = append(queries, s.query)
	}
	if len(queries) != 2 || !strings.Contains(queries[1], "limit=40") || !strings.Contains(queries[1], "skip=200") {
		t.Errorf("inv-a's pages: %v", queries)
	}
}
