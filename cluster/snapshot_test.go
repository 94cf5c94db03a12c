package cluster

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/stemcell-io/stemcell/config"
)

func TestWarmKeysRoundTrip(t *testing.T) {
	s := Snapshot{UserMemory: config.GB, Free: 512 * config.MB, Idle: Usage{2, 512 * config.MB}, Warm: []uint64{1, 1 << 53, math.MaxUint64}}
	e, err := decodeEntry("inv", []byte(encodeRecord("inv", "", false, s)), 1, 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	if !e.Snapshot.Equal(s) || !slices.Equal(e.Invoker().Warm, s.Warm) {
		t.Fatalf("decoded %+v, want %+v", e.Snapshot, s)
	}
	if v := encodeRecord("inv", "", false, s); !strings.Contains(v, `"warm":["0000000000000001","0020000000000000","ffffffffffffffff"]`) {
		t.Errorf("record %s: want the keys as 16-digit hexadecimal strings", v)
	}
	if v := encodeRecord("inv", "", false, Snapshot{}); strings.Contains(v, `"warm":`) {
		t.Errorf("record %s: no warm action, no warm field", v)
	}
	s2 := s
	s2.Warm = []uint64{1, 2}
	if s.Equal(s2) {
		t.Error("snapshots with different warm keys are Equal")
	}
	for _, bad := range []struct{ value, want string }{
		{`{"id":"inv","warm":["xyz"]}`, `warm[0] "xyz" is not a 16-digit hexadecimal key`},
		{`{"id":"inv","warm":["1"]}`, `warm[0] "1" is not`},
		{`{"id":"inv","warm":["0000000000000002","0000000000000001"]}`, "warm[1] 0000000000000001: keys must be in increasing order"},
	} {
		if _, err := decodeEntry("inv", []byte(bad.value), 1, 1, 1); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s: err %v, want one saying %q", bad.value, err, bad.want)
		}
	}
}
