package prewarm

import (
	"math/rand"
	"reflect"
	"testing"
	"time"
)

func TestExpired(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	k := Key{Kind: "js:goja"}
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	idle := []Idle{
		{Ref: 1, Key: k, Expires: at(30)},
		{Ref: 2, Key: k, Expires: at(10)},
		{Ref: 3, Key: k}, // never expires
		{Ref: 4, Key: k, Expires: at(20)},
		{Ref: 5, Key: k, Expires: at(10)},  // same deadline as 2: ref breaks the tie
		{Ref: 6, Key: k, Expires: at(100)}, // not yet
	}
	tests := []struct {
		name  string
		now   time.Time
		limit int
		want  []uint64
	}{
		{"oldest first, all expired", at(50), 100, []uint64{2, 5, 4, 1}},
		{"at most the limit, oldest kept first", at(50), 2, []uint64{2, 5}},
		{"deadline equal to now counts", at(20), 100, []uint64{2, 5, 4}},
		{"nothing expired yet", at(5), 100, nil},
		{"zero limit removes nothing", at(50), 0, nil},
		{"never-expiring stays forever", at(1 << 20), 100, []uint64{2, 5, 4, 1, 6}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []uint64
			for _, e := range Expired(idle, tt.now, tt.limit) {
				got = append(got, e.Ref)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Expired(now=%v, limit=%d) = %v, want %v", tt.now.Sub(t0), tt.limit, got, tt.want)
			}
		})
	}
}

func TestNextCheckDelay(t *testing.T) {
	dur := func(d time.Duration) *time.Duration { return &d }
	tests := []struct {
		name     string
		interval time.Duration
		variance *time.Duration
	}{
		{"10 s variance", time.Minute, dur(10 * time.Second)},
		{"1 ns variance", time.Minute, dur(1)},
		{"sub-second variance", time.Second, dur(300 * time.Millisecond)},
		{"no variance", time.Minute, nil},
		{"zero variance", time.Minute, dur(0)},
		{"negative variance", time.Minute, dur(-time.Second)},
	}
	// An interval under a second would spin; it counts as one second.
	r := rand.New(rand.NewSource(1))
	for _, iv := range []time.Duration{0, -time.Minute, time.Millisecond} {
		if d := NextCheckDelay(iv, nil, r); d != time.Second {
			t.Errorf("NextCheckDelay(%v, nil) = %v, want the 1 s floor", iv, d)
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rand.New(rand.NewSource(42))
			v := time.Duration(0)
			if tt.variance != nil && *tt.variance > 0 {
				v = *tt.variance
			}
			seen := map[time.Duration]bool{}
			for range 200 {
				d := NextCheckDelay(tt.interval, tt.variance, r)
				if d < tt.interval || (v > 0 && d >= tt.interval+v) || (v == 0 && d != tt.interval) {
					t.Fatalf("delay %v outside [%v, %v+%v)", d, tt.interval, tt.interval, v)
				}
				seen[d] = true
			}
			// A real jitter must differ from check to check.
			if v > time.Microsecond && len(seen) < 100 {
				t.Errorf("only %d distinct delays in 200 draws with variance %v", len(seen), v)
			}
		})
	}
}
