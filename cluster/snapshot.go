package cluster

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/route"
)

// Snapshot is what an invoker publishes about its pool: the pool's memory
// snapshot (actors.MemorySnapshot) as plain data, without its time, so two
// snapshots of an unchanged pool compare equal and are not written twice.
type Snapshot struct {
	UserMemory config.ByteSize // MemorySnapshot.Total
	Free       config.ByteSize
	Busy       Usage
	Idle       Usage
	Prewarmed  Usage
	Starting   Usage
	Removing   Usage
	Queued     Usage // MemorySnapshot.Buffered
	// Warm holds route.WarmKey of every action with an idle container, in
	// increasing order without repeats (route.Invoker.Warm).
	Warm []uint64
}

// Equal reports whether s and o say the same: an invoker writes a
// snapshot only when it is not Equal to the last one written.
func (s Snapshot) Equal(o Snapshot) bool {
	return s.UserMemory == o.UserMemory && s.Free == o.Free && s.Busy == o.Busy && s.Idle == o.Idle &&
		s.Prewarmed == o.Prewarmed && s.Starting == o.Starting && s.Removing == o.Removing &&
		s.Queued == o.Queued && slices.Equal(s.Warm, o.Warm)
}

// Usage is a count of containers (or of queued activations) and the memory
// they hold or want.
type Usage struct {
	Count  int
	Memory config.ByteSize
}

// Entry is one invoker as the view sees it: its registration and the last
// snapshot it published.
type Entry struct {
	ID string
	// Address is where fronts reach the invoker (Options.Address); empty
	// when the invoker did not say.
	Address string
	// Incarnation is the etcd revision that created the key: it changes
	// (and grows) every time the invoker registers anew, so a front tells
	// a restarted or re-registered invoker from the one it knew.
	Incarnation int64
	// Revision is the etcd revision of the last write to the key: it
	// changes with every snapshot published.
	Revision int64
	// Lease is the etcd lease the key lives under.
	Lease    int64
	Draining bool
	Snapshot Snapshot
}

// Invoker maps e onto what route places on.
func (e *Entry) Invoker() route.Invoker {
	return route.Invoker{
		ID:          e.ID,
		Incarnation: e.Incarnation,
		Revision:    e.Revision,
		UserMemory:  e.Snapshot.UserMemory,
		Free:        e.Snapshot.Free,
		Busy:        e.Snapshot.Busy.Memory,
		Idle:        e.Snapshot.Idle.Memory,
		Prewarmed:   e.Snapshot.Prewarmed.Memory,
		Queued:      e.Snapshot.Queued.Memory,
		Draining:    e.Draining,
		Warm:        e.Snapshot.Warm,
	}
}

// record is the JSON value stored at an invoker's key. Memory is in bytes
// (plain integers, not config.ByteSize's text form), so the wire format does
// not change when the display format does.
type record struct {
	ID         string      `json:"id"`
	Address    string      `json:"address,omitempty"`
	Draining   bool        `json:"draining,omitempty"`
	UserMemory int64       `json:"userMemory"`
	Free       int64       `json:"free"`
	Busy       recordUsage `json:"busy"`
	Idle       recordUsage `json:"idle"`
	Prewarmed  recordUsage `json:"prewarmed"`
	Starting   recordUsage `json:"starting"`
	Removing   recordUsage `json:"removing"`
	Queued     recordUsage `json:"queued"`
	// Warm is Snapshot.Warm as 16-digit hexadecimal strings: JSON numbers
	// above 2^53 lose precision in many readers.
	Warm []string `json:"warm,omitempty"`
}

type recordUsage struct {
	Count  int   `json:"count"`
	Memory int64 `json:"memory"`
}

func toRecordUsage(u Usage) recordUsage {
	return recordUsage{Count: u.Count, Memory: int64(u.Memory)}
}

func (u recordUsage) usage() Usage {
	return Usage{Count: u.Count, Memory: config.ByteSize(u.Memory)}
}

func encodeRecord(id, address string, draining bool, s Snapshot) string {
	b, err := json.Marshal(record{
		ID: id, Address: address, Draining: draining,
		UserMemory: int64(s.UserMemory), Free: int64(s.Free),
		Busy: toRecordUsage(s.Busy), Idle: toRecordUsage(s.Idle),
		Prewarmed: toRecordUsage(s.Prewarmed), Starting: toRecordUsage(s.Starting),
		Removing: toRecordUsage(s.Removing), Queued: toRecordUsage(s.Queued),
		Warm: warmHex(s.Warm),
	})
	if err != nil { // a struct of strings, ints and bools always marshals
		panic(fmt.Sprintf("cluster: encoding an invoker record: %v", err))
	}
	return string(b)
}

// decodeEntry reads the value at key id; the revisions and lease come from
// etcd's metadata of the key, not from the value.
func decodeEntry(id string, value []byte, createRev, modRev, lease int64) (Entry, error) {
	var r record
	if err := json.Unmarshal(value, &r); err != nil {
		return Entry{}, fmt.Errorf("invoker %q: value is not an invoker record: %w", id, err)
	}
	if r.ID != id {
		return Entry{}, fmt.Errorf("invoker %q: value names invoker %q: must name its own key", id, r.ID)
	}
	warm, err := parseWarm(r.Warm)
	if err != nil {
		return Entry{}, fmt.Errorf("invoker %q: %w", id, err)
	}
	return Entry{
		ID: id, Address: r.Address, Incarnation: createRev, Revision: modRev, Lease: lease,
		Draining: r.Draining,
		Snapshot: Snapshot{
			UserMemory: config.ByteSize(r.UserMemory), Free: config.ByteSize(r.Free),
			Busy: r.Busy.usage(), Idle: r.Idle.usage(), Prewarmed: r.Prewarmed.usage(),
			Starting: r.Starting.usage(), Removing: r.Removing.usage(), Queued: r.Queued.usage(),
			Warm: warm,
		},
	}, nil
}

func warmHex(keys []uint64) []string {
	if len(keys) == 0 {
		return nil
	}
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = fmt.Sprintf("%016x", k)
	}
	return out
}

// parseWarm reads a record's warm keys; they must be in increasing order,
// which route's binary search relies on.
func parseWarm(hex []string) ([]uint64, error) {
	if len(hex) == 0 {
		return nil, nil
	}
	out := make([]uint64, len(hex))
	for i, h := range hex {
		k, err := strconv.ParseUint(h, 16, 64)
		if err != nil || len(h) != 16 {
			return nil, fmt.Errorf("warm[%d] %q is not a 16-digit hexadecimal key", i, h)
		}
		if i > 0 && k <= out[i-1] {
			return nil, fmt.Errorf("warm[%d] %s: keys must be in increasing order", i, h)
		}
		out[i] = k
	}
	return out, nil
}
