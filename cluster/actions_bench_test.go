package cluster

import (
	"testing"

	"github.com/stemcell-io/stemcell/store"
)

// The invoke path's read: an action in the mirror with its code cached,
// against what it would cost to read the document from etcd each time.
//
//	go test -run '^$' -bench 'Actions' -benchtime 2s ./cluster/
func BenchmarkActionsGetFromMirror(b *testing.B) {
	srv := startEtcd(b)
	a := startActions(b, newClient(b, srv.endpoint), "bench", ActionsOptions{})
	code := bigCode(64<<10, 7)
	if _, err := a.PutAction("guest", "x", replace("guest", "x", code, 1)); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := a.GetAction("guest", "x"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkActionsGetDocumentFromEtcd(b *testing.B) {
	srv := startEtcd(b)
	cli := newClient(b, srv.endpoint)
	a := startActions(b, cli, "bench", ActionsOptions{})
	code := bigCode(64<<10, 7)
	if _, err := a.PutAction("guest", "x", replace("guest", "x", code, 1)); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, _, err := a.readDoc("guest/x"); err != nil {
			b.Fatal(err)
		}
	}
}

// A 5 MB action written again and again with new code each time: parts,
// meta, document transaction and the collection of the previous code.
func BenchmarkActionsPut5MB(b *testing.B) {
	srv := startEtcd(b)
	a := startActions(b, newClient(b, srv.endpoint), "bench", ActionsOptions{})
	codes := []string{bigCode(5<<20, 8), bigCode(5<<20, 9)}
	i := 0
	b.SetBytes(5 << 20)
	for b.Loop() {
		code := codes[i%2]
		i++
		if _, err := a.PutAction("guest", "big", func(*store.Action) (*store.Action, error) {
			return newDoc("guest", "big", code, int64(i)), nil
		}); err != nil {
			b.Fatal(err)
		}
	}
}
