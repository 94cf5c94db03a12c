package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"

	"github.com/stemcell-io/stemcell/factory"
	"github.com/stemcell-io/stemcell/factory/actionclient"
)

// BenchmarkWarmInvoke compares, in one run, a blocking invoke through the
// daemon (HTTP, auth, admission, pool, container actor, /run, logs, record)
// with a bare /run round trip to a warm container's runtime. It reports p50
// and p99 of each and the p50 differences, the daemon's overhead.
//
//	go test -run '^$' -bench WarmInvoke -benchtime 1000x ./e2e/
//
// Three actions with the same code: "echo" (logs collected after each run,
// OpenWhisk's default), "quiet" (log limit 0, so the daemon never reads its
// logs) and "relay" (the same as quiet, for the forwarders below). The bare
// /run goes to quiet's container: a bare /run writes sentinels that no Logs
// call takes, so on echo's container it would shift every later log read
// by one activation. echo runs the same code in a twin container, as warm:
// a runtime called more often answers faster (0.19 ms at p50 on the test
// host for six calls per iteration against one), so every compared
// container gets two calls per iteration, the unmeasured ones marked warm.
//
// A second daemon, the same but with container-pool.akka-client=true
// (pooled keep-alive connections to the containers instead of one per
// request), runs in the same loop: its figures are prefixed "pooled-".
// So do two forwarders (forwarder_test.go), processes that only relay a
// /run to relay's container through the daemon's own container client,
// one per client mode: the floor any HTTP front of a container pays here.
//
// overhead-p50 is the difference of the two p50s; paired-overhead-p50 the
// median of each iteration's own difference, which the machine's drift
// during a run does not move. STEMCELL_BENCH_BASELINE (baseline_test.go)
// adds the daemon of another revision.
func BenchmarkWarmInvoke(b *testing.B) {
	args := append([]string{"--user-memory", "2048m", "--log-level", "warn"}, strings.Fields(os.Getenv("STEMCELL_BENCH_ARGS"))...)
	d := newDaemon(b, args...)
	dp := newDaemon(b, append(slices.Clone(args), "--set", "container-pool.akka-client=true")...)
	daemons := []*daemon{d, dp}
	base := newBaselineDaemon(b, args...)
	if base != nil {
		daemons = append(daemons, base)
	}
	const code = `function main(p) { return p; }`
	for _, d := range daemons {
		d.start()
		defer d.shutdown()
		d.putAction("echo", code, nil)
		d.putAction("quiet", code, map[string]int{"logs": 0})
	}
	d.putAction("relay", code, map[string]int{"logs": 0})
	echo := "/api/v1/namespaces/_/actions/echo?blocking=true&result=true"
	quiet := "/api/v1/namespaces/_/actions/quiet?blocking=true&result=true"
	relay := "/api/v1/namespaces/_/actions/relay?blocking=true&result=true"

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}, Timeout: time.Minute}
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte(guestAuth))
	post := func(url, body string, withAuth bool) time.Duration {
		req, _ := http.NewRequest("POST", url, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if withAuth {
			req.Header.Set("Authorization", auth)
		}
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		took := time.Since(start)
		if resp.StatusCode != 200 || !bytes.Contains(out, []byte(`"n":1`)) {
			b.Fatalf("%s: %d %s", url, resp.StatusCode, out)
		}
		return took
	}
	invoke := func(d *daemon, path string) time.Duration { return post("http://"+d.addr+path, `{"n":1}`, true) }
	bareBody := `{"value":{"n":1},"namespace":"guest","action_name":"/guest/quiet","action_version":"0.0.1",` +
		`"activation_id":"00000000000000000000000000000000","transaction_id":"bench","deadline":"` +
		fmt.Sprint(time.Now().Add(time.Hour).UnixMilli()) + `"}`
	// Each search finds the one container initialized since the last.
	invoke(d, relay)
	relayAddr := newlyInitialized(b, d, bareBody, nil)
	invoke(d, quiet)
	runURL := "http://" + newlyInitialized(b, d, bareBody, []string{relayAddr}) + "/run"
	for _, d := range daemons {
		invoke(d, echo)
		invoke(d, quiet)
	}
	fwdAddr, fwdPID := startForwarder(b, relayAddr, false)
	fwdPooledAddr, fwdPooledPID := startForwarder(b, relayAddr, true)
	fwd, fwdPooled := "http://"+fwdAddr+"/run", "http://"+fwdPooledAddr+"/run"
	// A /run through the daemon's container client in each of its modes,
	// from this process: what the daemon's own /run costs, connection
	// policy included, without the daemon.
	clientRun := clientRunner(b, relayAddr, false)
	pooledClientRun := clientRunner(b, relayAddr, true)
	var fwdLat, fwdPooledLat, bareClient, pooledBareClient []time.Duration
	var api, noLogs, pooled, pooledNoLogs, bare, baseline []time.Duration
	warm := func(d *daemon, path string) func() { return func() { invoke(d, path) } }
	// Each iteration runs every step once, in a fresh random order: a
	// request pays for what the one before it left running (a daemon's
	// store commit, its late logs, a runtime still warm from the previous
	// call to its container), and a fixed order charges or spares some
	// paths only. STEMCELL_BENCH_ORDER=fixed keeps the order below.
	steps := []func(){
		func() { api = append(api, invoke(d, echo)) },
		warm(d, echo),
		func() { noLogs = append(noLogs, invoke(d, quiet)) },
		func() { bare = append(bare, post(runURL, bareBody, false)) },
		// relay's container gets work from the daemon too, or the pool
		// pauses it (pause-grace) under the forwarders.
		warm(d, relay),
		func() { pooled = append(pooled, invoke(dp, echo)) },
		warm(dp, echo),
		func() { pooledNoLogs = append(pooledNoLogs, invoke(dp, quiet)) },
		warm(dp, quiet),
		func() { bareClient = append(bareClient, clientRun()) },
		func() { pooledBareClient = append(pooledBareClient, pooledClientRun()) },
		func() { fwdLat = append(fwdLat, post(fwd, bareBody, false)) },
		func() { fwdPooledLat = append(fwdPooledLat, post(fwdPooled, bareBody, false)) },
	}
	if base != nil {
		steps = append(steps,
			func() { baseline = append(baseline, invoke(base, echo)) },
			warm(base, echo), warm(base, quiet), warm(base, quiet))
	}
	// CPU time per request of each process that serves one: what the
	// daemon's work costs beside what it waits for. Each daemon serves
	// four requests per iteration, a forwarder one.
	cpu := map[string]int{"daemon": d.cmd.Process.Pid, "pooled-daemon": dp.cmd.Process.Pid,
		"forwarder": fwdPID, "pooled-forwarder": fwdPooledPID}
	perIteration := map[string]int{"daemon": 4, "pooled-daemon": 4, "forwarder": 1, "pooled-forwarder": 1}
	if base != nil {
		cpu["baseline-daemon"], perIteration["baseline-daemon"] = base.cmd.Process.Pid, 4
	}
	cpuBefore := map[string]time.Duration{}
	for name, pid := range cpu {
		cpuBefore[name] = mustProcessCPU(b, pid)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	shuffle := os.Getenv("STEMCELL_BENCH_ORDER") != "fixed"
	b.ResetTimer()
	for range b.N {
		if shuffle {
			rng.Shuffle(len(steps), func(i, j int) { steps[i], steps[j] = steps[j], steps[i] })
		}
		for _, step := range steps {
			step()
		}
	}
	b.StopTimer()
	for name, pid := range cpu {
		used := mustProcessCPU(b, pid) - cpuBefore[name]
		b.ReportMetric(float64(used.Microseconds())/float64(perIteration[name]*b.N), name+"-cpu-us/req")
	}
	// The floors run on relay's container, which five calls per iteration
	// keep warmer than the compared pair: they are read against each
	// other, a forwarder against the client run in its mode.
	b.ReportMetric(quantile(bareClient, 0.5), "client-run-p50-ms")
	b.ReportMetric(quantile(pooledBareClient, 0.5), "pooled-client-run-p50-ms")
	b.ReportMetric(quantile(minus(fwdLat, bareClient), 0.5), "paired-forwarder-overhead-p50-ms")
	b.ReportMetric(quantile(minus(fwdPooledLat, pooledBareClient), 0.5), "pooled-paired-forwarder-overhead-p50-ms")
	b.ReportMetric(quantile(noLogs, 0.5), "daemon-nologs-p50-ms")
	b.ReportMetric(quantile(noLogs, 0.5)-quantile(bare, 0.5), "overhead-nologs-p50-ms")
	b.ReportMetric(quantile(noLogs, 0.99), "daemon-nologs-p99-ms")
	apiP50, bareP50 := quantile(api, 0.5), quantile(bare, 0.5)
	b.ReportMetric(apiP50, "daemon-p50-ms")
	b.ReportMetric(quantile(api, 0.99), "daemon-p99-ms")
	b.ReportMetric(bareP50, "bare-run-p50-ms")
	b.ReportMetric(quantile(bare, 0.99), "bare-run-p99-ms")
	b.ReportMetric(apiP50-bareP50, "overhead-p50-ms")
	b.ReportMetric(quantile(pooled, 0.5), "pooled-daemon-p50-ms")
	b.ReportMetric(quantile(pooled, 0.99), "pooled-daemon-p99-ms")
	b.ReportMetric(quantile(pooled, 0.5)-bareP50, "pooled-overhead-p50-ms")
	b.ReportMetric(quantile(pooledNoLogs, 0.5)-bareP50, "pooled-overhead-nologs-p50-ms")
	// The median of each iteration's own difference: the machine's drift
	// over the run (it moves bare /run by a third here) cancels out.
	b.ReportMetric(quantile(minus(api, bare), 0.5), "paired-overhead-p50-ms")
	b.ReportMetric(quantile(minus(noLogs, bare), 0.5), "paired-overhead-nologs-p50-ms")
	if base != nil {
		// The baseline revision's daemon, default mode, as "daemon-".
		b.ReportMetric(quantile(baseline, 0.5), "baseline-daemon-p50-ms")
		b.ReportMetric(quantile(baseline, 0.99), "baseline-daemon-p99-ms")
		b.ReportMetric(quantile(minus(baseline, bare), 0.5), "baseline-paired-overhead-p50-ms")
		b.ReportMetric(quantile(minus(api, baseline), 0.5), "paired-daemon-minus-baseline-p50-ms")
	}
}

// clientRunner returns a timed /run of relay's code on the container at
// addr through the daemon's container client, pooled or not.
func clientRunner(b *testing.B, addr string, pooled bool) func() time.Duration {
	c := actionclient.New(addr, actionclient.Options{Pooled: pooled})
	b.Cleanup(c.Close)
	return func() time.Duration {
		start := time.Now()
		out, err := c.Run(context.Background(), factory.RunRequest{
			Params: json.RawMessage(`{"n":1}`), Namespace: "guest", ActionName: "/guest/quiet", ActionVersion: "0.0.1",
			ActivationID: "00000000000000000000000000000000", TransactionID: "bench",
			Deadline: time.Now().Add(time.Minute), Timeout: time.Minute,
		})
		took := time.Since(start)
		if err != nil || out.Status != factory.StatusSuccess {
			b.Fatalf("client /run: %+v %v", out, err)
		}
		return took
	}
}

func mustProcessCPU(b *testing.B, pid int) time.Duration {
	t, err := processCPU(pid)
	if err != nil {
		b.Fatal(err)
	}
	return t
}

// minus returns a[i] - b[i] for each i.
func minus(a, b []time.Duration) []time.Duration {
	d := make([]time.Duration, len(a))
	for i := range a {
		d[i] = a[i] - b[i]
	}
	return d
}

// quantile returns the q-quantile in milliseconds.
func quantile(l []time.Duration, q float64) float64 {
	s := append([]time.Duration(nil), l...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return float64(s[int(q*float64(len(s)-1))].Microseconds()) / 1000
}

// newlyInitialized finds the one container of d whose runtime was
// initialized (it may have been a stem cell), leaving out those in known:
// stem cells answer /run with 403 until /init. It returns the runtime's
// ip:8080.
func newlyInitialized(b *testing.B, d *daemon, body string, known []string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	list, err := engine.ContainerList(ctx, container.ListOptions{Filters: filters.NewArgs(filters.Arg("name", "^/?"+d.name+"_"))})
	if err != nil {
		b.Fatal(err)
	}
	found := ""
	for _, c := range list {
		ins, err := engine.ContainerInspect(ctx, c.ID)
		if err != nil {
			b.Fatal(err)
		}
		for _, n := range ins.NetworkSettings.Networks {
			addr := net.JoinHostPort(n.IPAddress, "8080")
			if n.IPAddress == "" || slices.Contains(known, addr) {
				continue
			}
			resp, err := http.Post("http://"+addr+"/run", "application/json", strings.NewReader(body))
			if err != nil {
				continue
			}
			out, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 && bytes.Contains(out, []byte(`"n":1`)) {
				if found != "" {
					b.Fatalf("two newly initialized containers of %s: %s and %s", d.name, found, addr)
				}
				found = addr
			}
		}
	}
	if found == "" {
		b.Fatalf("no new container of %s runs an action (%d containers)", d.name, len(list))
	}
	return found
}
