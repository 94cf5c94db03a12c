package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/stemcell-io/stemcell/internal/etcdembed"
	"github.com/stemcell-io/stemcell/server"
)

// localCluster is what `invoker local-cluster` was asked for.
type localCluster struct {
	dir        string
	invokers   int
	fronts     int
	listen     string // the first front's address
	fake       bool
	userMemory string
	leaseTTL   time.Duration
	name       string
	etcd       string // an etcd to use instead of starting one
	set        []string
	readyWait  time.Duration
}

func init() {
	lc := &localCluster{}
	cmd := &cobra.Command{
		Use:   "local-cluster",
		Short: "Run a cluster on this machine for development and tests: an etcd, N invokers and fronts, all on loopback",
		Long: `Start an etcd inside this process (or use --etcd), N invoker processes
("invoker run" in cluster mode) and M fronts ("invoker front"), all on
127.0.0.1 with free ports except the first front's (--listen). Every process
shares one keys file (<dir>/keys, created with a guest key when missing)
and logs to <dir>/logs/<name>.log; <dir>/cluster.json lists them with their
URLs and pids. Ctrl-C or SIGTERM stops them all, fronts first. A process
that dies is reported and not restarted, so a test can kill one.

With --fake the invokers run no containers (container-factory.provider
fake): for load tests of placement and of everything but the engine.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGTERM, os.Interrupt)
			defer stop()
			return lc.run(ctx, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&lc.dir, "dir", "./local-cluster", "directory of the keys file, the logs, cluster.json and every process's data")
	fs.IntVar(&lc.invokers, "invokers", 3, "how many invokers")
	fs.IntVar(&lc.fronts, "fronts", 1, "how many fronts")
	fs.StringVar(&lc.listen, "listen", "127.0.0.1:3233", "host:port of the first front (the others and the invokers take free ports)")
	fs.BoolVar(&lc.fake, "fake", false, "invokers run no containers (container-factory.provider=fake)")
	fs.StringVar(&lc.userMemory, "user-memory", "", "container-pool.user-memory of each invoker (default: the invoker's)")
	fs.DurationVar(&lc.leaseTTL, "lease-ttl", 5*time.Second, "cluster.lease-ttl: how soon a killed invoker leaves the fronts' views (production: 15s)")
	fs.StringVar(&lc.name, "name", "local", "cluster.name")
	fs.StringVar(&lc.etcd, "etcd", "", "client URL of an etcd to use (default: start one in this process, data in <dir>/etcd)")
	fs.StringArrayVar(&lc.set, "set", nil, "a configuration key for every invoker: --set container-factory.fake.run=20ms (repeatable)")
	fs.DurationVar(&lc.readyWait, "ready-wait", 3*time.Minute, "how long each process may take to become ready (an invoker on Docker builds its runtime image first)")
	rootCmd.AddCommand(cmd)
}

// clusterFile is <dir>/cluster.json: what a script or test needs to reach
// and stop the processes.
type clusterFile struct {
	Name     string      `json:"name"`
	Etcd     string      `json:"etcd"`
	KeysFile string      `json:"keysFile"`
	Fronts   []procEntry `json:"fronts"`
	Invokers []procEntry `json:"invokers"`
	PID      int         `json:"pid"` // local-cluster's own: SIGTERM stops everything
}

type procEntry struct {
	Name string `json:"name"`
	URL  string `json:"url"`
	PID  int    `json:"pid"`
	Log  string `json:"log"`
}

func (lc *localCluster) validate() error {
	var errs []error
	if lc.invokers < 1 {
		errs = append(errs, fmt.Errorf("--invokers %d: must be >= 1", lc.invokers))
	}
	if lc.fronts < 1 {
		errs = append(errs, fmt.Errorf("--fronts %d: must be >= 1", lc.fronts))
	}
	if lc.leaseTTL < 2*time.Second {
		errs = append(errs, fmt.Errorf("--lease-ttl %s: must be >= 2s", lc.leaseTTL))
	}
	return errors.Join(errs...)
}

func (lc *localCluster) run(ctx context.Context, stdout, stderr io.Writer) error {
	if err := lc.validate(); err != nil {
		return &exitError{code: 2, err: err}
	}
	dir, err := filepath.Abs(lc.dir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(dir, "logs"), 0o755); err != nil {
		return fmt.Errorf("--dir %s: %w", dir, err)
	}
	keysFile := filepath.Join(dir, "keys")
	if _, _, err := server.LoadOrCreateKeys(keysFile); err != nil {
		return fmt.Errorf("keys file %s: %w", keysFile, err)
	}
	endpoint := lc.etcd
	if endpoint == "" {
		etcd, err := etcdembed.Start(etcdembed.Options{Dir: filepath.Join(dir, "etcd")})
		if err != nil {
			return err
		}
		defer etcd.Close()
		endpoint = etcd.Endpoint
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	g := &procGroup{exe: exe, dir: dir, stderr: stderr}
	defer g.stop(30 * time.Second)
	common := []string{"--keys-file", keysFile, "--log-format", "json",
		"--set", "cluster.endpoints=" + endpoint, "--set", "cluster.name=" + lc.name,
		"--set", "cluster.lease-ttl=" + lc.leaseTTL.String()}
	for i := 1; i <= lc.invokers; i++ {
		name := "invoker-" + strconv.Itoa(i)
		args := append([]string{"run", "--invoker-name", lc.name + "-" + name, "--set", "cluster.id=" + name}, common...)
		if lc.fake {
			args = append(args, "--set", "container-factory.provider=fake")
		}
		if lc.userMemory != "" {
			args = append(args, "--user-memory", lc.userMemory)
		}
		for _, s := range lc.set {
			args = append(args, "--set", s)
		}
		if _, err := g.start(name, "127.0.0.1:0", args); err != nil {
			return err
		}
	}
	for i := 1; i <= lc.fronts; i++ {
		name := "front-" + strconv.Itoa(i)
		listen := "127.0.0.1:0"
		if i == 1 {
			listen = lc.listen
		}
		args := append([]string{"front", "--set", "cluster.id=" + name}, common...)
		if _, err := g.start(name, listen, args); err != nil {
			return err
		}
	}
	if err := g.waitReady(ctx, lc.readyWait); err != nil {
		return err
	}
	cf := clusterFile{Name: lc.name, Etcd: endpoint, KeysFile: keysFile, PID: os.Getpid()}
	for _, p := range g.procs {
		e := procEntry{Name: p.name, URL: p.url, PID: p.cmd.Process.Pid, Log: p.logPath}
		if strings.HasPrefix(p.name, "front-") {
			cf.Fronts = append(cf.Fronts, e)
		} else {
			cf.Invokers = append(cf.Invokers, e)
		}
	}
	b, _ := json.MarshalIndent(cf, "", "  ")
	if err := os.WriteFile(filepath.Join(dir, "cluster.json"), append(b, '\n'), 0o644); err != nil {
		return err
	}
	lc.announce(stdout, cf)
	g.watch(ctx)
	return nil
}

func (lc *localCluster) announce(w io.Writer, cf clusterFile) {
	fmt.Fprintf(w, "local cluster %q ready; etcd %s; cluster.json in %s\n", cf.Name, cf.Etcd, filepath.Dir(cf.KeysFile))
	for _, p := range append(append([]procEntry{}, cf.Fronts...), cf.Invokers...) {
		fmt.Fprintf(w, "  %-10s %-26s pid %-7d log %s\n", p.Name, p.URL, p.PID, p.Log)
	}
	fmt.Fprintf(w, "wsk property set --apihost %s --auth \"$(grep -v '^#' %s | head -1 | cut -d' ' -f1)\"\n", cf.Fronts[0].URL, cf.KeysFile)
	fmt.Fprintln(w, "Ctrl-C stops them all.")
}
