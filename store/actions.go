package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// GetAction returns the action at path ("name" or "pkg/name") in namespace ns.
func (s *Store) GetAction(ns, path string) (*Action, error) {
	var a *Action
	err := s.db.View(func(tx *bolt.Tx) error {
		k := actionKey(ns, path)
		v := tx.Bucket(bucketActions).Get(k)
		if v == nil {
			return ErrNotFound
		}
		a = new(Action)
		if err := json.Unmarshal(v, a); err != nil {
			return err
		}
		attachCode(tx, k, a)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: action %s/%s: %w", ns, path, err)
	}
	return a, nil
}

// PutAction stores the action that fn returns, given the current one (nil
// when there is none), in one transaction, so that two updates of the same
// action cannot interleave.
func (s *Store) PutAction(ns, path string, fn func(old *Action) (*Action, error)) (*Action, error) {
	var out *Action
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketActions)
		k := actionKey(ns, path)
		var old *Action
		if v := b.Get(k); v != nil {
			old = new(Action)
			if err := json.Unmarshal(v, old); err != nil {
				return fmt.Errorf("decode stored action: %w", err)
			}
			attachCode(tx, k, old)
		}
		a, err := fn(old)
		if err != nil {
			return err
		}
		stored, err := storedForm(tx, k, a)
		if err != nil {
			return err
		}
		v, err := MarshalAction(stored)
		if err != nil {
			return err
		}
		out = a
		return b.Put(k, v)
	})
	if err != nil {
		return nil, fmt.Errorf("store: put action %s/%s: %w", ns, path, err)
	}
	return out, nil
}

// DeleteAction removes an action and returns it.
func (s *Store) DeleteAction(ns, path string) (*Action, error) {
	var a *Action
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketActions)
		k := actionKey(ns, path)
		v := b.Get(k)
		if v == nil {
			return ErrNotFound
		}
		a = new(Action)
		if err := json.Unmarshal(v, a); err != nil {
			return err
		}
		attachCode(tx, k, a)
		if err := tx.Bucket(bucketCode).DeleteBucket(k); err != nil && !errors.Is(err, bolt.ErrBucketNotFound) {
			return err
		}
		return b.Delete(k)
	})
	if err != nil {
		return nil, fmt.Errorf("store: delete action %s/%s: %w", ns, path, err)
	}
	return a, nil
}

// ListActions returns the actions of namespace ns, most recently updated
// first, after skipping skip; limit <= 0 means no limit. Large code kept
// apart is not read: lists show no code. With pkg set only
// that package's actions are listed. total is the count before paging.
func (s *Store) ListActions(ns, pkg string, skip, limit int) (list []Action, total int, err error) {
	prefix := actionKey(ns, "")
	if pkg != "" {
		prefix = actionKey(ns, pkg+"/")
	}
	err = s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketActions).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			if pkg != "" && strings.Contains(string(k[len(prefix):]), "/") {
				continue
			}
			var a Action
			if err := json.Unmarshal(v, &a); err != nil {
				return fmt.Errorf("decode action %q: %w", k, err)
			}
			list = append(list, a)
		}
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("store: list actions of %s: %w", ns, err)
	}
	sort.SliceStable(list, func(i, j int) bool { return list[i].Updated > list[j].Updated })
	total = len(list)
	list = page(list, skip, limit)
	return list, total, nil
}

func page[T any](list []T, skip, limit int) []T {
	if skip >= len(list) {
		return list[:0]
	}
	list = list[skip:]
	if limit > 0 && limit < len(list) {
		list = list[:limit]
	}
	return list
}
