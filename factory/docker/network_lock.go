package docker

import (
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// lockHostNetwork takes a lock that the invokers of this host share (a
// flock on one file in the temporary directory, for every network name: the
// section it guards is short, and one file leaves nothing to clean up) for
// finding or creating the network name, and returns its release. The engine does not refuse a
// second network of a name that exists when both are created at once, and
// it resolves a container's networks by name when it starts one, so two
// of a name would make every start fail as "ambiguous". Invokers that do
// not share the temporary directory still converge on the oldest network
// (see ownNetwork), the lock only closes the window on one host.
func lockHostNetwork() (func(), error) {
	path := filepath.Join(os.TempDir(), "stemcell-networks.lock")
	fh, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE, 0o644) // read-only: flock needs no more, and another user may take it
	if err != nil {
		return nil, fmt.Errorf("opening the lock file %s: %w", path, err)
	}
	if err := unix.Flock(int(fh.Fd()), unix.LOCK_EX); err != nil {
		_ = fh.Close()
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	return func() {
		_ = unix.Flock(int(fh.Fd()), unix.LOCK_UN)
		_ = fh.Close()
	}, nil
}
