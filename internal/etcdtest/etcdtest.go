// Package etcdtest runs an etcd inside a test process, for the tests of
// cluster mode: one member on random loopback ports, its data in the
// test's temporary directory, stopped at the end of the test.
package etcdtest

import (
	"testing"

	"github.com/stemcell-io/stemcell/internal/etcdembed"
)

// Server is a running member.
type Server = etcdembed.Server

// Start starts a single-member etcd and stops it at the end of t.
// Heartbeat 10 ms and election 100 ms make it ready in well under a second
// and let leases as short as 1 s through.
func Start(t testing.TB) *Server {
	t.Helper()
	s, err := etcdembed.Start(etcdembed.Options{Dir: t.TempDir(), Fast: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}
