package prewarm

import (
	"math/rand"
	"sort"
	"time"
)

// Idle is a ready stem cell as the expiry decision sees it.
type Idle struct {
	Ref     uint64
	Key     Key
	Expires time.Time // zero: never expires
}

// Expired returns the stem cells whose deadline is at or before now, oldest
// deadline first (ties by Ref, for a stable order), at most limit of them.
// The reactive minimum does not protect them: the backfill of the same check
// replaces them with fresh ones (reference §3.3).
func Expired(idle []Idle, now time.Time, limit int) []Idle {
	if limit <= 0 {
		return nil
	}
	var out []Idle
	for _, c := range idle {
		if !c.Expires.IsZero() && !c.Expires.After(now) {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Expires.Equal(out[j].Expires) {
			return out[i].Ref < out[j].Ref
		}
		return out[i].Expires.Before(out[j].Expires)
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out
}

// minCheckInterval is the shortest interval between expiry checks, the
// smallest OpenWhisk accepts; a zero interval would spin.
const minCheckInterval = time.Second

// NextCheckDelay is interval + uniform[0, variance), drawn anew for every
// check so that the checks of many invokers drift apart and keep drifting
// (OpenWhisk draws once per pool). A nil or non-positive variance adds
// nothing; an interval under a second counts as one second.
func NextCheckDelay(interval time.Duration, variance *time.Duration, r *rand.Rand) time.Duration {
	interval = max(interval, minCheckInterval)
	if variance == nil || *variance <= 0 {
		return interval
	}
	return interval + time.Duration(r.Int63n(int64(*variance)))
}
