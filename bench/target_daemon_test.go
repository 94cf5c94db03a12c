package main

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/stemcell-io/stemcell/actors"
	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/factory/fake"
	"github.com/stemcell-io/stemcell/pool"
	"github.com/stemcell-io/stemcell/server"
	"github.com/stemcell-io/stemcell/store"
)

const testKey = "23bc46b1-71f6-4ed5-8c54-816aa4f8c502:123zO3xZCLrMN6v2BKK1dXYFpXlPkccOFqm12CdAsMgRU4VrNZ9lyGVCGuMDGIwP"

// startDaemon serves the daemon's API in this process: the real server
// over a pool on the fake factory, as `invoker run` wires them.
func startDaemon(t *testing.T) (url, keysFile string) {
	t.Helper()
	dir := t.TempDir()
	keysFile = filepath.Join(dir, "keys")
	if err := os.WriteFile(keysFile, []byte("# test\n"+testKey+" guest\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	keys, err := server.ParseKeys([]byte(testKey+" guest\n"), keysFile)
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.ContainerPool.UserMemory = 4 * 1024 * config.MB
	st, err := store.Open(filepath.Join(dir, "data"), store.Options{Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	sys := actors.NewSystem(zerolog.Nop())
	fac := fake.New(fake.Options{Latency: fake.Latencies{Create: fake.Latency{Fixed: 20 * time.Millisecond}}, Run: execRun})
	p, err := pool.Spawn(sys.Root, pool.Options{Config: cfg, Factory: fac, Log: zerolog.Nop(), Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	scfg := config.DefaultServer()
	scfg.DataDir = dir
	srv, err := server.New(server.Options{Config: cfg, Server: scfg, Store: st, Invoker: p, Keys: keys, Log: zerolog.Nop(), Registry: reg, Gatherer: reg})
	if err != nil {
		t.Fatal(err)
	}
	srv.SetReady(true)
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		hs.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := p.Shutdown(ctx); err != nil {
			t.Errorf("pool shutdown: %v", err)
		}
		sys.Shutdown()
		if err := st.Close(); err != nil {
			t.Errorf("store close: %v", err)
		}
	})
	return hs.URL, keysFile
}

func TestDaemonTarget(t *testing.T) {
	url, keys := startDaemon(t)
	var stdout, stderr strings.Builder
	out := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	args := []string{"--target", "daemon", "--daemon-url", url, "--keys-file", keys,
		"--workload", "poisson", "--functions", "3", "--rate", "20", "--duration", "1s", "--exec", "5ms", "--out", out}
	if err := execute(ctx, args, &stdout, &stderr, false); err != nil {
		t.Fatalf("bench: %v\n%s\n%s", err, stdout.String(), stderr.String())
	}
	b, err := os.ReadFile(filepath.Join(out, "bench.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f resultFile
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	s := f.Runs[0].Summary
	if s.Activations != f.Workload.Arrivals || len(s.ErrorsByStatus) != 0 {
		t.Fatalf("activations %d of %d arrivals, errors %v\n%s", s.Activations, f.Workload.Arrivals, s.ErrorsByStatus, stdout.String())
	}
	// The records name their start kind (annotation startKind): warm, and
	// cold or prewarmed for the containers started; never unknown.
	started := s.ByStartKind["cold"].Count + s.ByStartKind["prewarmed"].Count + s.ByStartKind["recreated"].Count
	if s.ByStartKind["warm"].Count == 0 || started == 0 || s.ByStartKind["warm"].Count+started != s.Activations {
		t.Errorf("start kinds %+v: want warm and cold, prewarmed or recreated only", s.ByStartKind)
	}
	if s.PeakMemoryMB <= 0 {
		t.Errorf("peak memory %.0f MB: /v1/pool was not read", s.PeakMemoryMB)
	}
	// The actions are gone afterwards.
	base, err := parseBaseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	tg := &daemonTarget{base: base, auth: testKey, ns: "_", client: newDaemonClient()}
	defer tg.client.CloseIdleConnections()
	list, err := tg.listActions(ctx)
	if err != nil || len(list) != 0 {
		t.Errorf("actions left on the daemon: %v (err %v)", list, err)
	}
}

func TestDaemonTargetRefusesPoolSettings(t *testing.T) {
	for _, args := range [][]string{
		{"--target", "daemon", "--compare", "prewarm=off"},
		{"--target", "daemon", "--user-memory", "2g"},
	} {
		var out strings.Builder
		err := execute(context.Background(), args, &out, &out, false)
		if err == nil || !strings.Contains(err.Error(), "daemon's own configuration") {
			t.Errorf("%v: error %v, want a refusal", args, err)
		}
	}
}

func TestRecordOutcome(t *testing.T) {
	for _, c := range []struct {
		body string
		want outcome
	}{
		{`{"response":{"status":"success"},"annotations":[{"key":"waitTime","value":12},{"key":"timeout","value":false}]}`,
			outcome{StartKind: "warm", Status: "success", Wait: 12 * time.Millisecond}},
		{`{"response":{"status":"action developer error"},"annotations":[{"key":"waitTime","value":250},{"key":"initTime","value":9}]}`,
			outcome{StartKind: "unknown", Status: "developer error", Wait: 250 * time.Millisecond}},
		{`{"response":{"status":"whisk internal error"},"annotations":[{"key":"initTime","value":9},{"key":"startKind","value":"prewarmed"}]}`,
			outcome{StartKind: "prewarmed", Status: "internal error"}},
		{`{"response":{"status":"application error"},"annotations":[]}`, outcome{StartKind: "warm", Status: "application error"}},
	} {
		var rec record
		if err := json.Unmarshal([]byte(c.body), &rec); err != nil {
			t.Fatal(err)
		}
		if got := recordOutcome(rec); got != c.want {
			t.Errorf("%s = %+v, want %+v", c.body, got, c.want)
		}
	}
}

func TestSumCounter(t *testing.T) {
	text := `# HELP stemcell_pool_evictions_total Idle warm containers removed to make room.
# TYPE stemcell_pool_evictions_total counter
stemcell_pool_evictions_total{pool="pool"} 7
stemcell_pool_evictions_total{pool="other",x="}"} 2
stemcell_pool_evictions_totalish 100
stemcell_pool_evictions_total 1
`
	if n, err := sumCounter([]byte(text), "stemcell_pool_evictions_total"); err != nil || n != 10 {
		t.Errorf("sum = %d, %v; want 10", n, err)
	}
	if _, err := sumCounter([]byte("other 1\n"), "stemcell_pool_evictions_total"); err == nil {
		t.Error("missing counter: want an error")
	}
	if _, err := sumCounter([]byte("stemcell_pool_evictions_total{} x\n"), "stemcell_pool_evictions_total"); err == nil {
		t.Error("bad value: want an error")
	}
}
