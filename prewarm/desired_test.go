package prewarm

import (
	"testing"
	"time"

	"github.com/stemcell-io/stemcell/config"
)

func reactiveCell(initial, minCount, maxCount, threshold, increment int) Cell {
	return Cell{
		Key:          Key{Kind: "js:goja", Memory: 256 * config.MB},
		InitialCount: initial,
		Reactive: &config.ReactiveConfig{
			MinCount: minCount, MaxCount: maxCount, TTL: 2 * time.Minute,
			Threshold: threshold, Increment: increment,
		},
	}
}

func TestReactiveDesired(t *testing.T) {
	tests := []struct {
		name string
		cell Cell
		cold int
		want int
	}{
		{"reference: 2 cold starts give 2", reactiveCell(2, 1, 4, 1, 1), 2, 2},
		{"reference: 5 cold starts are capped at 4", reactiveCell(2, 1, 4, 1, 1), 5, 4},
		{"reference: none gives the minimum", reactiveCell(2, 1, 4, 1, 1), 0, 1},
		{"minimum zero and no cold starts", reactiveCell(2, 0, 4, 1, 1), 0, 0},
		{"integer division under the threshold", reactiveCell(1, 0, 10, 3, 2), 2, 0},
		{"integer division at the threshold", reactiveCell(1, 0, 10, 3, 2), 3, 2},
		{"integer division between thresholds", reactiveCell(1, 0, 10, 3, 2), 8, 4},
		{"minimum wins over a small demand", reactiveCell(1, 3, 10, 1, 1), 2, 3},
		{"maximum caps an increment", reactiveCell(1, 0, 5, 1, 4), 2, 5},
		{"negative count is no demand", reactiveCell(1, 1, 4, 1, 1), -3, 1},
		{"zero threshold counts as one", reactiveCell(1, 0, 4, 0, 1), 3, 3},
		{"not reactive keeps the initial count", Cell{InitialCount: 3}, 10, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ReactiveDesired(tt.cell, tt.cold); got != tt.want {
				t.Errorf("ReactiveDesired(%+v, %d) = %d, want %d", *tt.cell.Reactive, tt.cold, got, tt.want)
			}
		})
	}
}

func TestDesired(t *testing.T) {
	fixed := Cell{InitialCount: 3}
	react := reactiveCell(2, 1, 4, 1, 1)
	tests := []struct {
		name    string
		cell    Cell
		trigger Trigger
		cold    int
		want    int
	}{
		{"fixed at init", fixed, TriggerInit, 0, 3},
		{"fixed at a check ignores demand", fixed, TriggerCheck, 9, 3},
		{"fixed backfill", fixed, TriggerBackfill, 9, 3},
		{"reactive at init takes the initial count", react, TriggerInit, 9, 2},
		{"reactive at a check follows demand", react, TriggerCheck, 3, 3},
		{"reactive at a quiet check falls to the minimum", react, TriggerCheck, 0, 1},
		{"reactive backfill refills to the minimum only", react, TriggerBackfill, 9, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Desired(tt.cell, tt.trigger, tt.cold); got != tt.want {
				t.Errorf("Desired(%s, cold %d) = %d, want %d", tt.trigger, tt.cold, got, tt.want)
			}
		})
	}
}

func TestMissing(t *testing.T) {
	for _, tt := range []struct{ desired, current, want int }{
		{3, 0, 3}, {3, 2, 1}, {3, 3, 0}, {3, 5, 0}, {0, 0, 0},
	} {
		if got := Missing(tt.desired, tt.current); got != tt.want {
			t.Errorf("Missing(%d, %d) = %d, want %d", tt.desired, tt.current, got, tt.want)
		}
	}
}

func TestCellsOf(t *testing.T) {
	img := config.ImageName{Prefix: "stemcell", Name: "action-runtime", Tag: "dev"}
	m := config.Manifest{Runtimes: map[string][]config.RuntimeKind{
		"python": {{Kind: "python:3", Image: img, StemCells: []config.StemCell{{InitialCount: 1, Memory: 128 * config.MB}}}},
		"nodejs": {
			{Kind: "js:goja", Image: img, StemCells: []config.StemCell{
				{InitialCount: 2, Memory: 256 * config.MB},
				{InitialCount: 1, Memory: 512 * config.MB},
				{InitialCount: 3, Memory: 256 * config.MB},
			}},
			{Kind: "nodejs:18", Image: img},
		},
	}}
	got := cellsOf(m)
	want := []struct {
		key   Key
		count int
	}{
		{Key{"js:goja", 256 * config.MB}, 5},
		{Key{"js:goja", 512 * config.MB}, 1},
		{Key{"python:3", 128 * config.MB}, 1},
	}
	if len(got) != len(want) {
		t.Fatalf("cellsOf gave %d cells %+v, want %d", len(got), got, len(want))
	}
	for i, w := range want {
		if got[i].Key != w.key || got[i].InitialCount != w.count || got[i].Image != img {
			t.Errorf("cell %d = %+v, want key %v count %d", i, got[i], w.key, w.count)
		}
	}
}
