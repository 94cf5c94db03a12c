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
//	go test -run '^$' -bench WarmInvoke -benchtime 300x ./e2e/
//
// Two actions with the same code: "quiet" (log limit 0, so the daemon never
// reads its logs) and "echo" (logs collected after each run, OpenWhisk's
// default). The bare /run goes to quiet's container: a bare /run writes
// sentinels that no Logs call takes, so on echo's container it would shift
// every later log read by one activation. quiet's invokes and the bare
// /run share one container; echo runs the same code in a twin.
//
// A second daemon, the same but with container-pool.akka-client=true
// (pooled keep-alive connections to the containers instead of one per
// request), runs in the same loop: its figures are prefixed "pooled-".
// So do two forwarders (forwarder_test.go), processes that only relay a
// /run to quiet's container through the daemon's own container client,
// one per client mode: the floor any HTTP front of a container pays here.
//
// overhead-p50 is the difference of the two p50s; paired-overhead-p50 the
// median of each iteration's own difference, which the machine's drift
// during a run does not move.
func BenchmarkWarmInvoke(b *testing.B) {
	args := append([]string{"--user-memory", "1024m", "--log-level", "warn"}, strings.Fields(os.Getenv("STEMCELL_BENCH_ARGS"))...)
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
	invoke := "/api/v1/namespaces/_/actions/echo?blocking=true&result=true"
	quiet := "/api/v1/namespaces/_/actions/quiet?blocking=true&result=true"

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
	bareBody := `{"value":{"n":1},"namespace":"guest","action_name":"/guest/quiet","action_version":"0.0.1",` +
		`"activation_id":"00000000000000000000000000000000","transaction_id":"bench","deadline":"` +
		fmt.Sprint(time.Now().Add(time.Hour).UnixMilli()) + `"}`
	// Only quiet's container is initialized when the search runs.
	post("http://"+d.addr+quiet, `{"n":1}`, true)
	runURL := "http://" + actionContainerAddr(b, d, bareBody) + "/run"
	post("http://"+d.addr+invoke, `{"n":1}`, true)
	post("http://"+dp.addr+quiet, `{"n":1}`, true)
	post("http://"+dp.addr+invoke, `{"n":1}`, true)
	if base != nil {
		post("http://"+base.addr+quiet, `{"n":1}`, true)
		post("http://"+base.addr+invoke, `{"n":1}`, true)
	}
	containerAddr := strings.TrimSuffix(strings.TrimPrefix(runURL, "http://"), "/run")
	fwdAddr, fwdPID := startForwarder(b, containerAddr, false)
	fwdPooledAddr, fwdPooledPID := startForwarder(b, containerAddr, true)
	fwd, fwdPooled := "http://"+fwdAddr+"/run", "http://"+fwdPooledAddr+"/run"
	// The bare /run once more, through the daemon's container client in
	// each of its modes, from this process: what the daemon's own /run
	// costs, connection policy included, without the daemon.
	clientRun := clientRunner(b, containerAddr, false)
	pooledClientRun := clientRunner(b, containerAddr, true)
	var fwdLat, fwdPooledLat, bareClient, pooledBareClient []time.Duration
	var api, noLogs, pooled, pooledNoLogs, bare, baseline []time.Duration
	// Each iteration runs every path once, in a fresh random order: a
	// request pays for what the one before it left running (a daemon's
	// store commit, its late logs, a runtime still warm from the previous
	// call to its container), and a fixed order charges or spares some
	// paths only. STEMCELL_BENCH_ORDER=fixed keeps the order below, as the
	// figures before November 30, 2026 were taken.
	steps := []func(){
		func() { api = append(api, post("http://"+d.addr+invoke, `{"n":1}`, true)) },
		func() { noLogs = append(noLogs, post("http://"+d.addr+quiet, `{"n":1}`, true)) },
		func() { pooled = append(pooled, post("http://"+dp.addr+invoke, `{"n":1}`, true)) },
		func() { pooledNoLogs = append(pooledNoLogs, post("http://"+dp.addr+quiet, `{"n":1}`, true)) },
		func() { bare = append(bare, post(runURL, bareBody, false)) },
		func() { bareClient = append(bareClient, clientRun()) },
		func() { pooledBareClient = append(pooledBareClient, pooledClientRun()) },
		func() { fwdLat = append(fwdLat, post(fwd, bareBody, false)) },
		func() { fwdPooledLat = append(fwdPooledLat, post(fwdPooled, bareBody, false)) },
	}
	if base != nil {
		steps = append(steps,
			func() { baseline = append(baseline, post("http://"+base.addr+invoke, `{"n":1}`, true)) },
			// Not compared: the bare /run and the forwarders keep this
			// daemon's quiet container, not the baseline's, warm. It
			// makes the two daemons' CPU per request alike.
			func() { post("http://"+base.addr+quiet, `{"n":1}`, true) })
	}
	// CPU time per request of each process that serves one: what the
	// daemon's work costs beside what it waits for. Each daemon serves
	// two requests per iteration (echo, quiet), a forwarder one.
	cpu := map[string]int{"daemon": d.cmd.Process.Pid, "pooled-daemon": dp.cmd.Process.Pid,
		"forwarder": fwdPID, "pooled-forwarder": fwdPooledPID}
	perIteration := map[string]int{"daemon": 2, "pooled-daemon": 2, "forwarder": 1, "pooled-forwarder": 1}
	if base != nil {
		cpu["baseline-daemon"], perIteration["baseline-daemon"] = base.cmd.Process.Pid, 2
	}
	cpuBefore := map[string]time.Duration{}
	for name, pid := range cpu {
		cpuBefore[name] = mustProcessCPU(b, pid)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	b.ResetTimer()
	for range b.N {
		if os.Getenv("STEMCELL_BENCH_ORDER") != "fixed" {
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
	b.ReportMetric(quantile(fwdLat, 0.5)-quantile(bare, 0.5), "forwarder-overhead-p50-ms")
	b.ReportMetric(quantile(fwdPooledLat, 0.5)-quantile(bare, 0.5), "pooled-forwarder-overhead-p50-ms")
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
	b.ReportMetric(quantile(minus(fwdLat, bare), 0.5), "paired-forwarder-overhead-p50-ms")
	// Against the bare /run in the daemon's own connection mode.
	b.ReportMetric(quantile(bareClient, 0.5), "bare-client-run-p50-ms")
	b.ReportMetric(quantile(pooledBareClient, 0.5), "pooled-bare-client-run-p50-ms")
	b.ReportMetric(quantile(minus(api, bareClient), 0.5), "paired-overhead-same-mode-p50-ms")
	b.ReportMetric(quantile(minus(pooled, pooledBareClient), 0.5), "pooled-paired-overhead-same-mode-p50-ms")
	if base != nil {
		// The baseline revision's daemon, default mode, as "daemon-".
		b.ReportMetric(quantile(baseline, 0.5), "baseline-daemon-p50-ms")
		b.ReportMetric(quantile(baseline, 0.99), "baseline-daemon-p99-ms")
		b.ReportMetric(quantile(minus(baseline, bare), 0.5), "baseline-paired-overhead-p50-ms")
		b.ReportMetric(quantile(minus(api, baseline), 0.5), "paired-daemon-minus-baseline-p50-ms")
	}
}

// clientRunner returns a timed /run of quiet's code on the container at
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

// actionContainerAddr finds the one container whose runtime was
// initialised (it may have been a stem cell): stem cells answer /run with
// 403 until /init. It returns the runtime's ip:8080.
func actionContainerAddr(b *testing.B, d *daemon, body string) string {
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
			if n.IPAddress == "" {
				continue
			}
			addr := net.JoinHostPort(n.IPAddress, "8080")
			resp, err := http.Post("http://"+addr+"/run", "application/json", strings.NewReader(body))
			if err != nil {
				continue
			}
			out, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 && bytes.Contains(out, []byte(`"n":1`)) {
				if found != "" {
					b.Fatalf("two initialized containers of %s: %s and %s", d.name, found, addr)
				}
				found = addr
			}
		}
	}
	if found == "" {
		b.Fatalf("no container of %s runs the action (%d containers)", d.name, len(list))
	}
	return found
}
