package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// MsgStopped is the error of an activation that a previous process accepted
// and never finished.
const MsgStopped = "The invoker stopped before the activation finished."

// PutPending durably records an accepted activation that has not finished,
// before the caller is told its id. If the final record is already stored
// (the activation finished first), nothing is written.
func (s *Store) PutPending(rec *Activation) error {
	v, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("store: encode pending activation %s: %w", rec.ActivationID, err)
	}
	id := []byte(rec.ActivationID)
	return s.write(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketActivations).Get(id) != nil {
			return nil
		}
		return tx.Bucket(bucketPending).Put(id, v)
	})
}

// Complete queues the final record of an activation and returns at once;
// the returned channel receives the outcome of the write. Readers of this
// store see the record as soon as Complete has returned (they wait for the
// queue), and a pending record of the same id is removed in the same
// transaction. The record is encoded by the writer, off the caller's path:
// it must not change after the call.
func (s *Store) Complete(rec *Activation) <-chan error {
	done := make(chan error, 1)
	o := &op{done: done, async: true, apply: func(tx *bolt.Tx) error {
		v, err := json.Marshal(rec)
		if err != nil {
			return fmt.Errorf("store: encode activation %s: %w", rec.ActivationID, err)
		}
		return putRecord(tx, rec.Namespace, rec.ActivationID, rec.Start, actionPathOf(rec), v)
	}}
	if err := s.enqueue(o); err != nil {
		done <- fmt.Errorf("store: activation %s: %w", rec.ActivationID, err)
	}
	return done
}

func putRecord(tx *bolt.Tx, ns, id string, start int64, path string, v []byte) error {
	if err := tx.Bucket(bucketActivations).Put([]byte(id), v); err != nil {
		return err
	}
	if err := tx.Bucket(bucketByNamespace).Put(nsTimeKey(ns, start, id), []byte(path)); err != nil {
		return err
	}
	if err := tx.Bucket(bucketByTime).Put(timeKey(start, id), []byte(ns)); err != nil {
		return err
	}
	return tx.Bucket(bucketPending).Delete([]byte(id))
}

// actionPathOf returns the action's path below its namespace ("hello" or
// "pkg/hello"), from the record's path annotation, for name filters.
func actionPathOf(rec *Activation) string {
	for _, a := range rec.Annotations {
		if a.Key != "path" {
			continue
		}
		var p string
		if json.Unmarshal(a.Value, &p) == nil {
			if i := strings.IndexByte(p, '/'); i >= 0 {
				return p[i+1:]
			}
			return p
		}
	}
	return rec.Name
}

// GetActivation returns a finished activation of namespace ns. A pending
// activation, or one of another namespace, is ErrNotFound.
func (s *Store) GetActivation(ns, id string) (*Activation, error) {
	if err := s.flush(); err != nil {
		return nil, err
	}
	var rec *Activation
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketActivations).Get([]byte(id))
		if v == nil {
			return ErrNotFound
		}
		rec = new(Activation)
		if err := json.Unmarshal(v, rec); err != nil {
			return err
		}
		if rec.Namespace != ns {
			return ErrNotFound
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: activation %s of %s: %w", id, ns, err)
	}
	return rec, nil
}

// HasActivation reports whether a committed record, finished or pending,
// holds id, in any namespace. It does not wait for queued writes: it is
// for refusing an id chosen outside (a front's), where a record about to
// be committed under the same id would have needed a collision of random
// 128-bit ids anyway.
func (s *Store) HasActivation(id string) bool {
	found := false
	_ = s.db.View(func(tx *bolt.Tx) error {
		found = tx.Bucket(bucketActivations).Get([]byte(id)) != nil ||
			tx.Bucket(bucketPending).Get([]byte(id)) != nil
		return nil
	})
	return found
}

// Query selects activations of one namespace.
type Query struct {
	Namespace string
	Name      string // action path below the namespace; "" for all
	Since     int64  // inclusive lower bound on start, epoch ms; 0: none
	Upto      int64  // inclusive upper bound on start, epoch ms; 0: none
	Skip      int
	Limit     int // <= 0: no limit
}

// ListActivations returns the matching finished activations, newest start
// first.
func (s *Store) ListActivations(q Query) ([]Activation, error) {
	var out []Activation
	err := s.scan(q, func(tx *bolt.Tx, id []byte) bool {
		v := tx.Bucket(bucketActivations).Get(id)
		if v == nil {
			return true
		}
		var rec Activation
		if json.Unmarshal(v, &rec) != nil {
			return true
		}
		out = append(out, rec)
		return q.Limit <= 0 || len(out) < q.Limit
	})
	return out, err
}

// CountActivations counts the matching activations, ignoring Skip and Limit.
func (s *Store) CountActivations(q Query) (int, error) {
	q.Skip, q.Limit = 0, 0
	n := 0
	err := s.scan(q, func(*bolt.Tx, []byte) bool { n++; return true })
	return n, err
}

// scan walks the namespace index from newest to oldest, calling visit with
// each match after the first q.Skip, until visit returns false.
func (s *Store) scan(q Query, visit func(tx *bolt.Tx, id []byte) bool) error {
	if err := s.flush(); err != nil {
		return err
	}
	prefix := append([]byte(q.Namespace), 0)
	upto := q.Upto
	if upto <= 0 {
		upto = 1<<63 - 1
	}
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketByNamespace).Cursor()
		// Position after the last key <= upto, then walk backwards.
		seek := nsTimeKey(q.Namespace, 0, "")
		binary.BigEndian.PutUint64(seek[len(prefix):], uint64(upto)+1)
		k, v := c.Seek(seek)
		if k == nil {
			k, v = c.Last()
		} else {
			k, v = c.Prev()
		}
		skipped := 0
		for ; k != nil && bytes.HasPrefix(k, prefix); k, v = c.Prev() {
			rest := k[len(prefix):]
			if len(rest) < 8 {
				continue
			}
			start := int64(binary.BigEndian.Uint64(rest))
			if start > upto {
				continue
			}
			if q.Since > 0 && start < q.Since {
				break
			}
			if q.Name != "" && string(v) != q.Name {
				continue
			}
			if skipped < q.Skip {
				skipped++
				continue
			}
			if !visit(tx, rest[8:]) {
				break
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: list activations of %s: %w", q.Namespace, err)
	}
	return nil
}

// recoverPending turns every pending record into an internal-error record.
// It runs in Open, before the writer starts.
func (s *Store) recoverPending() (int, error) {
	now := s.opts.Now().UnixMilli()
	result, _ := json.Marshal(map[string]string{"error": MsgStopped})
	n := 0
	err := s.db.Update(func(tx *bolt.Tx) error {
		p := tx.Bucket(bucketPending)
		var ids [][]byte
		err := p.ForEach(func(k, v []byte) error {
			var rec Activation
			if err := json.Unmarshal(v, &rec); err != nil {
				s.log.Error().Err(err).Str("activation_id", string(k)).Msg("dropping undecodable pending record")
				ids = append(ids, append([]byte(nil), k...))
				return nil
			}
			rec.End = max(now, rec.Start)
			rec.Duration = rec.End - rec.Start
			rec.Response = Response{Status: StatusName(3), Success: false, Result: result}
			if rec.Logs == nil {
				rec.Logs = []string{}
			}
			out, err := json.Marshal(&rec)
			if err != nil {
				return err
			}
			ids = append(ids, append([]byte(nil), k...))
			n++
			return putRecordNoPending(tx, &rec, out)
		})
		if err != nil {
			return err
		}
		for _, id := range ids {
			if err := p.Delete(id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: recover pending activations: %w", err)
	}
	return n, nil
}

// putRecordNoPending writes a record and its indexes without touching the
// pending bucket (which the caller is iterating).
func putRecordNoPending(tx *bolt.Tx, rec *Activation, v []byte) error {
	id := rec.ActivationID
	if err := tx.Bucket(bucketActivations).Put([]byte(id), v); err != nil {
		return err
	}
	if err := tx.Bucket(bucketByNamespace).Put(nsTimeKey(rec.Namespace, rec.Start, id), []byte(actionPathOf(rec))); err != nil {
		return err
	}
	return tx.Bucket(bucketByTime).Put(timeKey(rec.Start, id), []byte(rec.Namespace))
}
