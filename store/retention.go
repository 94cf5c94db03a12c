package store

import (
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// pruneChunk bounds the deletions of one transaction.
const pruneChunk = 1000

// Prune deletes the activation records that retention no longer keeps:
// those that started before now - RetentionAge, and the oldest beyond
// RetentionCount. It returns how many it deleted.
func (s *Store) Prune() (int, error) {
	if s.opts.RetentionAge <= 0 && s.opts.RetentionCount <= 0 {
		return 0, nil
	}
	cutoff := int64(-1)
	if s.opts.RetentionAge > 0 {
		cutoff = s.opts.Now().Add(-s.opts.RetentionAge).UnixMilli()
	}
	total := 0
	for {
		n := 0
		err := s.write(func(tx *bolt.Tx) error {
			var err error
			n, err = pruneOnce(tx, cutoff, s.opts.RetentionCount)
			return err
		})
		if err != nil {
			return total, fmt.Errorf("store: prune activations: %w", err)
		}
		total += n
		if n < pruneChunk {
			return total, nil
		}
	}
}

// pruneOnce deletes up to pruneChunk records, oldest first.
func pruneOnce(tx *bolt.Tx, cutoff int64, keep int) (int, error) {
	byTime := tx.Bucket(bucketByTime)
	excess := 0
	if keep > 0 {
		excess = byTime.Stats().KeyN - keep
	}
	type victim struct{ key, ns []byte }
	var victims []victim
	c := byTime.Cursor()
	for k, v := c.First(); k != nil && len(victims) < pruneChunk; k, v = c.Next() {
		start := int64(binary.BigEndian.Uint64(k))
		if len(victims) >= excess && start >= cutoff {
			break
		}
		victims = append(victims, victim{append([]byte(nil), k...), append([]byte(nil), v...)})
	}
	for _, vi := range victims {
		id := vi.key[8:]
		nsKey := append(append(append([]byte(nil), vi.ns...), 0), vi.key...)
		if err := tx.Bucket(bucketByNamespace).Delete(nsKey); err != nil {
			return 0, err
		}
		if err := tx.Bucket(bucketActivations).Delete(id); err != nil {
			return 0, err
		}
		if err := byTime.Delete(vi.key); err != nil {
			return 0, err
		}
	}
	return len(victims), nil
}
