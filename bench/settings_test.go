package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stemcell-io/stemcell/bench/workload"
	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/factory/fake"
)

func TestParseSettings(t *testing.T) {
	for _, c := range []struct {
		text    string
		want    []setting
		wantErr string
	}{
		{"prewarm=off", []setting{{"prewarm", "off"}}, ""},
		{" prewarm = on , user-memory=4g ,", []setting{{"prewarm", "on"}, {"user-memory", "4g"}}, ""},
		{"container-pool.buffer-size=10", []setting{{"container-pool.buffer-size", "10"}}, ""},
		{"stem-cells=256m:2+512m:1", []setting{{"stem-cells", "256m:2+512m:1"}}, ""},
		{"", nil, ""},
		{"prewarm", nil, "must be key=value"},
		{"prewarm=maybe", nil, "must be on or off"},
		{"stem-cells=lots", nil, "want auto, auto:N or MEM:COUNT"},
		{"colour=blue", nil, `key "colour" is unknown`},
	} {
		got, err := parseSettings("compare", c.text)
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) || !strings.Contains(err.Error(), "--compare") {
				t.Errorf("%q: error %v, want one naming --compare and %q", c.text, err, c.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q = %v, %v; want %v", c.text, got, err, c.want)
		}
	}
}

func TestParseStemCells(t *testing.T) {
	w := &workload.Workload{Functions: []workload.Function{{MemoryMB: 512}, {MemoryMB: 128}, {MemoryMB: 512}}}
	for _, c := range []struct {
		text    string
		want    []config.StemCell
		wantErr bool
	}{
		{"auto", []config.StemCell{{InitialCount: 2, Memory: 128 * config.MB}, {InitialCount: 2, Memory: 512 * config.MB}}, false},
		{"auto:5", []config.StemCell{{InitialCount: 5, Memory: 128 * config.MB}, {InitialCount: 5, Memory: 512 * config.MB}}, false},
		{"256m:3+1g:1", []config.StemCell{{InitialCount: 3, Memory: 256 * config.MB}, {InitialCount: 1, Memory: 1024 * config.MB}}, false},
		{"auto:0", nil, true},
		{"256m", nil, true},
		{"256m:0", nil, true},
		{"0:2", nil, true},
	} {
		sc, err := parseStemCells(c.text)
		if c.wantErr {
			if err == nil || !strings.Contains(err.Error(), c.text) {
				t.Errorf("%q: error %v, want one naming the value", c.text, err)
			}
			continue
		}
		if got := sc.resolve(w); err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q = %+v, %v; want %+v", c.text, got, err, c.want)
		}
	}
}

func stemCellsOf(m config.Manifest) map[string][]config.StemCell {
	out := map[string][]config.StemCell{}
	for _, kinds := range m.Runtimes {
		for _, k := range kinds {
			out[k.Kind] = k.StemCells
		}
	}
	return out
}

func TestBuildConfig(t *testing.T) {
	w := &workload.Workload{Functions: []workload.Function{{MemoryMB: 256}, {MemoryMB: 128}}}
	dir := t.TempDir()
	file := filepath.Join(dir, "pool.yaml")
	if err := os.WriteFile(file, []byte("container-pool:\n  user-memory: 2g\n  buffer-size: 77\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name      string
		file      string
		settings  []setting
		memMB     int64
		buffer    int
		prewarm   bool
		cells     []config.StemCell
		promotion bool
		idle      time.Duration
	}{
		{name: "defaults", memMB: 1024, buffer: 10000, prewarm: true, idle: 10 * time.Minute,
			cells: []config.StemCell{{InitialCount: 2, Memory: 128 * config.MB}, {InitialCount: 2, Memory: 256 * config.MB}}},
		{name: "file then settings", file: file, settings: []setting{{"user-memory", "4g"}, {"promotion", "on"}, {"idle-container", "30s"}},
			memMB: 4096, buffer: 77, prewarm: true, promotion: true, idle: 30 * time.Second,
			cells: []config.StemCell{{InitialCount: 2, Memory: 128 * config.MB}, {InitialCount: 2, Memory: 256 * config.MB}}},
		{name: "later setting wins", settings: []setting{{"user-memory", "4g"}, {"container-pool.user-memory", "3g"}, {"stem-cells", "256m:1"}, {"stem-cells", "512m:4"}},
			memMB: 3072, buffer: 10000, prewarm: true, idle: 10 * time.Minute, cells: []config.StemCell{{InitialCount: 4, Memory: 512 * config.MB}}},
		{name: "prewarm off", settings: []setting{{"prewarm", "off"}}, memMB: 1024, buffer: 10000, idle: 10 * time.Minute},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg, rc, err := buildConfig(c.file, c.settings, "js:goja", w)
			if err != nil {
				t.Fatal(err)
			}
			if rc.UserMemoryMB != c.memMB || cfg.ContainerPool.UserMemory.MBs() != c.memMB || rc.BufferSize != c.buffer ||
				rc.PrewarmPromotion != c.promotion || cfg.ContainerProxy.Timeouts.IdleContainer != c.idle || rc.Prewarm != c.prewarm {
				t.Errorf("config %+v, want %d MB, buffer %d, promotion %v, idle %s, prewarm %v", rc, c.memMB, c.buffer, c.promotion, c.idle, c.prewarm)
			}
			cells := stemCellsOf(cfg.RuntimesManifest.Manifest)
			if !reflect.DeepEqual(cells["js:goja"], c.cells) || !reflect.DeepEqual(rc.StemCells, c.cells) {
				t.Errorf("stem cells %+v (recorded %+v), want %+v", cells["js:goja"], rc.StemCells, c.cells)
			}
			if !c.prewarm {
				for kind, sc := range cells {
					if len(sc) != 0 {
						t.Errorf("prewarm off: kind %s still has stem cells %+v", kind, sc)
					}
				}
			}
		})
	}
	// The default manifest is shared; building a config must not change it.
	if got := stemCellsOf(config.Default().RuntimesManifest.Manifest)["js:goja"]; len(got) != 1 || got[0].Memory != 256*config.MB {
		t.Errorf("default manifest changed: %+v", got)
	}
	for _, bad := range [][]setting{{{"user-memory", "0"}}, {{"container-pool.no-such-key", "1"}}} {
		if _, _, err := buildConfig("", bad, "js:goja", w); err == nil {
			t.Errorf("settings %v: want an error", bad)
		}
	}
	if _, _, err := buildConfig("", nil, "cobol:1", w); err == nil || !strings.Contains(err.Error(), "cobol:1") {
		t.Errorf("unknown kind: error %v, want one naming it", err)
	}
}

func TestParseLatency(t *testing.T) {
	for _, c := range []struct {
		text string
		want fake.Latency
		ok   bool
	}{
		{"190ms+60ms", fake.Latency{Fixed: 190 * time.Millisecond, Jitter: 60 * time.Millisecond}, true},
		{"1ms", fake.Latency{Fixed: time.Millisecond}, true},
		{"0s", fake.Latency{}, true},
		{"fast", fake.Latency{}, false},
		{"-1ms", fake.Latency{}, false},
		{"1ms+x", fake.Latency{}, false},
	} {
		got, err := parseLatency(c.text)
		if (err == nil) != c.ok || (c.ok && (got.Fixed != c.want.Fixed || got.Jitter != c.want.Jitter)) {
			t.Errorf("%q = %+v, %v; want %+v ok=%v", c.text, got, err, c.want, c.ok)
		}
	}
}

func TestWorkloadFlags(t *testing.T) {
	dir := t.TempDir()
	trace := filepath.Join(dir, "trace.csv")
	if err := os.WriteFile(trace, []byte("HashOwner,HashApp,HashFunction,Trigger,1,2\no,a,f1,http,3,1\no,a,f2,timer,0,2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := workloadFlags{Seed: 3, Duration: 2 * time.Second, MemoryMB: 128, Exec: 10 * time.Millisecond,
		On: 500 * time.Millisecond, Off: 500 * time.Millisecond, Minute: time.Second,
		AzureRateSigma: 2.5, AzureExecMedian: 100 * time.Millisecond, AzureExecSigma: 1, AzureExecMin: 10 * time.Millisecond,
		AzureExecMax: time.Second, AzureInvocationSigma: 0.3, AzureMemory: "128,256", AzureMemoryWeights: "1,1", AzureSwing: 0.5}
	for _, c := range []struct {
		kind      string
		trace     string
		functions int
		arrivals  int // 0: any positive number
		wantErr   string
	}{
		{kind: "constant", functions: 4, arrivals: 40},
		{kind: "poisson", functions: 4},
		{kind: "onoff", functions: 4},
		{kind: "azure", functions: 1000},
		{kind: "replay", trace: trace, functions: 2, arrivals: 6},
		{kind: "replay", wantErr: "--trace"},
		{kind: "zipf", wantErr: `--workload "zipf"`},
	} {
		f := base
		f.Kind, f.Trace = c.kind, c.trace
		w, err := f.generate()
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("%s: error %v, want %q", c.kind, err, c.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.kind, err)
			continue
		}
		if len(w.Functions) != c.functions || len(w.Arrivals) == 0 || (c.arrivals > 0 && len(w.Arrivals) != c.arrivals) {
			t.Errorf("%s: %d functions, %d arrivals; want %d and %d", c.kind, len(w.Functions), len(w.Arrivals), c.functions, c.arrivals)
		}
		again, _ := f.generate()
		if !reflect.DeepEqual(w.Arrivals, again.Arrivals) {
			t.Errorf("%s: the same flags gave another workload", c.kind)
		}
	}
	bad := base
	bad.Kind, bad.AzureMemory = "azure", "128,lots"
	if _, err := bad.generate(); err == nil || !strings.Contains(err.Error(), "--azure-memory") {
		t.Errorf("bad --azure-memory: error %v", err)
	}
}
