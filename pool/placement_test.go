package pool

import (
	"testing"
	"time"

	"github.com/stemcell-io/stemcell/config"
)

const mb = config.MB

func TestDecide(t *testing.T) {
	tests := []struct {
		name string
		s    situation
		want decision
	}{
		{"warmed wins over everything", situation{Need: 256 * mb, Total: 1024 * mb, Free: 1024 * mb, WarmTier: tierWarmed, StemCell: true},
			decision{Verdict: placeWarm, Tier: tierWarmed}},
		{"warming when no warmed", situation{Need: 256 * mb, Total: 1024 * mb, WarmTier: tierWarming, StemCell: true},
			decision{Verdict: placeWarm, Tier: tierWarming}},
		{"warming-cold still beats a stem cell", situation{Need: 256 * mb, Total: 1024 * mb, WarmTier: tierWarmingCold, StemCell: true},
			decision{Verdict: placeWarm, Tier: tierWarmingCold}},
		{"warm needs no free memory", situation{Need: 256 * mb, Total: 256 * mb, Free: 0, WarmTier: tierWarmed},
			decision{Verdict: placeWarm, Tier: tierWarmed}},
		{"stem cell needs no free memory", situation{Need: 256 * mb, Total: 256 * mb, Free: 0, WarmTier: tierNone, StemCell: true},
			decision{Verdict: placeStemCell}},
		{"cold when it fits exactly", situation{Need: 256 * mb, Total: 1024 * mb, Free: 256 * mb, WarmTier: tierNone},
			decision{Verdict: placeCold}},
		{"too big for the pool is rejected", situation{Need: 2048 * mb, Total: 1024 * mb, Free: 1024 * mb, WarmTier: tierNone},
			decision{Verdict: placeReject}},
		{"evict just the shortfall", situation{Need: 256 * mb, Total: 1024 * mb, Free: 128 * mb, Evictable: 512 * mb, WarmTier: tierNone},
			decision{Verdict: placeEvict, Shortfall: 128 * mb}},
		{"memory on its way back shrinks the shortfall", situation{Need: 256 * mb, Total: 1024 * mb, Free: 64 * mb, Removing: 128 * mb, Evictable: 512 * mb, WarmTier: tierNone},
			decision{Verdict: placeEvict, Shortfall: 64 * mb}},
		{"memory on its way back covers it: wait, evict nothing", situation{Need: 256 * mb, Total: 1024 * mb, Free: 128 * mb, Removing: 128 * mb, Evictable: 512 * mb, WarmTier: tierNone},
			decision{Verdict: placeWait}},
		{"eviction that would not make it fit is not done", situation{Need: 512 * mb, Total: 1024 * mb, Free: 128 * mb, Evictable: 256 * mb, WarmTier: tierNone},
			decision{Verdict: placeWait}},
		{"evictable exactly the shortfall", situation{Need: 512 * mb, Total: 1024 * mb, Free: 256 * mb, Evictable: 256 * mb, WarmTier: tierNone},
			decision{Verdict: placeEvict, Shortfall: 256 * mb}},
		{"nothing evictable: wait", situation{Need: 256 * mb, Total: 1024 * mb, Free: 0, WarmTier: tierNone},
			decision{Verdict: placeWait}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := decide(tc.s); got != tc.want {
				t.Fatalf("decide(%+v) = %+v (%s), want %+v (%s)", tc.s, got, got.Verdict, tc.want, tc.want.Verdict)
			}
		})
	}
}

func TestPickStemCell(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	cells := []stemCell{
		{Ref: 1, Memory: 512 * mb, Expires: t0.Add(1 * time.Minute)},
		{Ref: 2, Memory: 256 * mb, Expires: time.Time{}},
		{Ref: 3, Memory: 256 * mb, Expires: t0.Add(5 * time.Minute)},
		{Ref: 4, Memory: 256 * mb, Expires: t0.Add(2 * time.Minute)},
		{Ref: 5, Memory: 1024 * mb, Expires: t0},
	}
	tests := []struct {
		name      string
		cells     []stemCell
		need      config.ByteSize
		promotion bool
		wantRef   uint64 // 0: none
	}{
		{"exact memory, earliest expiry", cells, 256 * mb, false, 4},
		{"no exact match without promotion", cells, 128 * mb, false, 0},
		{"promotion takes the smallest large enough", cells, 128 * mb, true, 4},
		{"promotion prefers exact", cells, 512 * mb, true, 1},
		{"promotion goes up when nothing smaller fits", cells, 600 * mb, true, 5},
		{"nothing large enough", cells, 2048 * mb, true, 0},
		{"never-expiring sorts last", []stemCell{{Ref: 7, Memory: 256 * mb}, {Ref: 8, Memory: 256 * mb, Expires: t0}}, 256 * mb, false, 8},
		{"only never-expiring", []stemCell{{Ref: 7, Memory: 256 * mb}}, 256 * mb, false, 7},
		{"empty", nil, 256 * mb, true, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			i := pickStemCell(tc.cells, tc.need, tc.promotion)
			var got uint64
			if i >= 0 {
				got = tc.cells[i].Ref
			}
			if got != tc.wantRef {
				t.Fatalf("pickStemCell(need %d MB, promotion %v) took ref %d, want %d", tc.need.MBs(), tc.promotion, got, tc.wantRef)
			}
		})
	}
}
