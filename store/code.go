package store

import (
	"errors"
	"fmt"
	"unsafe"

	bolt "go.etcd.io/bbolt"
)

// ownBucketCode is the code size from which an action's code is kept apart
// from its document, in a bucket of its own under bucketCode. bbolt stores
// a bucket's values in leaves of at least two entries and rewrites a whole
// leaf when one entry changes: with large code inline, storing one 45 MB
// action copied two to four of them (the neighbours read back from the
// file, which then stayed in the process's memory as mapped pages). A
// bucket of its own has a leaf of its own. Small code stays inline, so most
// actions cost one lookup as before.
const ownBucketCode = 256 << 10

var codeKey = []byte("code")

// storedForm returns what goes into bucketActions for a and writes or
// removes its separate code.
func storedForm(tx *bolt.Tx, k []byte, a *Action) (*Action, error) {
	codes := tx.Bucket(bucketCode)
	if err := codes.DeleteBucket(k); err != nil && !errors.Is(err, bolt.ErrBucketNotFound) {
		return nil, fmt.Errorf("remove the separate code: %w", err)
	}
	if a.Exec.Code == nil || len(*a.Exec.Code) < ownBucketCode {
		return a, nil
	}
	b, err := codes.CreateBucket(k)
	if err != nil {
		return nil, fmt.Errorf("store the code apart: %w", err)
	}
	// The code's own bytes, not a copy: bbolt only reads a value, copying
	// it into its pages at commit, and a copy would be one more 45 MB for
	// a large action.
	code := *a.Exec.Code
	if err := b.Put(codeKey, unsafe.Slice(unsafe.StringData(code), len(code))); err != nil {
		return nil, fmt.Errorf("store the code apart: %w", err)
	}
	c := *a
	c.Exec.Code = nil
	return &c, nil
}

// attachCode gives a document read from bucketActions its separate code,
// if it has one. The code is copied out of the transaction.
func attachCode(tx *bolt.Tx, k []byte, a *Action) {
	if a.Exec.Code != nil {
		return
	}
	if b := tx.Bucket(bucketCode).Bucket(k); b != nil {
		if v := b.Get(codeKey); v != nil {
			code := string(v)
			a.Exec.Code = &code
		}
	}
}
