package policy

import (
	"slices"
	"testing"
	"time"

	"github.com/stemcell-io/stemcell/config"
)

func TestOpenWhiskIdle(t *testing.T) {
	cases := []struct {
		name         string
		grace, idle  time.Duration
		c            Container
		pause, remov time.Time
	}{
		// Defaults: pause 10 s after the job ended at 12:00:00, so 12:00:10;
		// before the pause completed the removal is 10 min after that
		// instant pause, 12:10:10.
		{"going idle", 10 * time.Second, 10 * time.Minute, Container{LastUsed: at(0)}, at(10 * time.Second), at(10*time.Minute + 10*time.Second)},
		// The pause took 250 ms: removal 10 min after it completed,
		// 12:00:10.25 + 10 min = 12:10:10.25, as the container actor arms it.
		{"paused", 10 * time.Second, 10 * time.Minute,
			Container{LastUsed: at(0), PausedAt: at(10*time.Second + 250*time.Millisecond)},
			at(10 * time.Second), at(10*time.Minute + 10*time.Second + 250*time.Millisecond)},
		// Pause grace 0 (OpenWhisk before 2022 had 50 ms): pause at the
		// job's end, 12:00:00; removal 1 min later.
		{"no grace", 0, time.Minute, Container{LastUsed: at(0)}, at(0), at(time.Minute)},
		// A later job restarts both: last use 12:05:00 → 12:05:10, 12:15:10.
		{"used again", 10 * time.Second, 10 * time.Minute, Container{LastUsed: at(5 * time.Minute)},
			at(5*time.Minute + 10*time.Second), at(15*time.Minute + 10*time.Second)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := DefaultOptions()
			o.PauseGrace, o.OpenWhisk.IdleContainer = c.grace, c.idle
			p := mustPolicy(t, OpenWhisk, o)
			got := p.Idle(at(time.Hour), c.c) // now plays no part
			if want := (Plan{PauseAt: c.pause, RemoveAt: c.remov}); got != want {
				t.Errorf("Idle = %+v, want %+v", got, want)
			}
			if w := p.PreWarm(at(0), &Stats{LastEnd: at(0)}); w != (Window{}) {
				t.Errorf("PreWarm = %+v, want none", w)
			}
		})
	}
}

func TestLRUOrder(t *testing.T) {
	st := &Stats{}
	cs := []Container{
		{ID: "a", LastUsed: at(5 * time.Second), Stats: st},
		{ID: "b", LastUsed: at(1 * time.Second), Stats: st},
		{ID: "s1", StemCell: true, Created: at(-time.Hour), LastUsed: at(-time.Hour)},
		{ID: "c", LastUsed: at(3 * time.Second), Stats: st},
		{ID: "s0", StemCell: true, Created: at(-2 * time.Hour), LastUsed: at(-time.Minute)},
		{ID: "d", LastUsed: at(3 * time.Second), Stats: st}, // same time as c, after it in the input
	}
	// By last use: b (1 s), c (3 s), d (3 s, behind c in the input), a
	// (5 s); then the stem cells by creation, s0 (-2 h) before s1 (-1 h),
	// though s0 became ready later: stem cells never outrank idle
	// containers, whatever their times.
	want := []string{"b", "c", "d", "a", "s0", "s1"}
	p := mustPolicy(t, OpenWhisk, DefaultOptions())
	order := p.Order(nil, cs)
	if got := ids(cs, order); !slices.Equal(got, want) {
		t.Errorf("Order = %v, want %v", got, want)
	}
	// Appends to dst, keeping what it held.
	if got := p.Order([]int{99}, cs); got[0] != 99 || len(got) != len(cs)+1 {
		t.Errorf("Order(dst) = %v, want 99 then %d indexes", got, len(cs))
	}
	if got := p.Order(nil, nil); len(got) != 0 {
		t.Errorf("Order of nothing = %v", got)
	}
}

func ids(cs []Container, order []int) []string {
	out := make([]string, len(order))
	for i, j := range order {
		out[i] = cs[j].ID
	}
	return out
}

func TestVictims(t *testing.T) {
	cs := []Container{{ID: "a", Memory: 256 * mb}, {ID: "b", Memory: 128 * mb}, {ID: "c", Memory: 512 * mb}}
	order := []int{1, 0, 2}
	cases := []struct {
		need config.ByteSize
		want []string
		ok   bool
	}{
		{0, []string{}, true},
		{100 * mb, []string{"b"}, true},            // b's 128 MB covers 100
		{128 * mb, []string{"b"}, true},            // exactly
		{300 * mb, []string{"b", "a"}, true},       // 128 + 256 = 384 >= 300
		{896 * mb, []string{"b", "a", "c"}, true},  // all 896
		{897 * mb, []string{"b", "a", "c"}, false}, // all do not cover it
	}
	for _, c := range cases {
		got, ok := Victims(order, cs, c.need)
		if ok != c.ok || !slices.Equal(ids(cs, got), c.want) {
			t.Errorf("Victims(%v) = %v, %v; want %v, %v", c.need, ids(cs, got), ok, c.want, c.ok)
		}
	}
}
