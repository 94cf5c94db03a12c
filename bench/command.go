package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/rs/zerolog"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/stemcell-io/stemcell/bench/report"
	"github.com/stemcell-io/stemcell/bench/workload"
)

// options are every flag of the command.
type options struct {
	Target   string
	Workload workloadFlags
	Fake     fakeFlags
	Docker   dockerFlags
	Daemon   daemonFlags

	ConfigFile    string
	Set           []string
	UserMemory    string
	Prewarm       string
	StemCells     string
	Promotion     string
	IdleContainer string
	PauseGrace    string
	A, B          string

	Kind          string
	ActionTimeout time.Duration
	InvokeTimeout time.Duration
	SampleEvery   time.Duration
	Warmup        time.Duration
	Out           string
	LogLevel      string

	args []string // the command line, recorded in bench.json
}

func newCommand(args []string, stdout, stderr io.Writer, progress bool) *cobra.Command {
	o := options{args: args}
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Load benchmarks of the container pool: workloads, side-by-side runs, reports and plots",
		Long: `bench replays a generated workload against the container pool in real time (open loop:
every arrival fires at its offset, whatever earlier ones are doing) and reports latency
by start kind, cold starts, prewarm hits, evictions, buffer wait, memory and errors.

Targets: fake (the pool in this process, fake containers with the --fake-* latencies),
docker (the pool in this process, real containers running JavaScript actions), daemon
(a running invoker daemon over its OpenWhisk API).

Side by side: --compare prewarm=off runs the configuration as given (A) and with the
settings of --compare (B) on the same workload, and prints the ratios B/A.
Settings are key=value pairs joined by commas: prewarm=on|off, stem-cells=auto[:N] or
MEM:COUNT+MEM:COUNT, user-memory=SIZE, promotion=on|off, idle-container=DUR,
pause-grace=DUR, or any configuration key (container-pool.buffer-size=100).`,
		Example: `  go run ./bench --workload azure --functions 200 --rate 50 --duration 20s --compare prewarm=off --out out/
  go run ./bench --target docker --workload poisson --functions 3 --rate 4 --duration 30s --exec 50ms
  go run ./bench --target daemon --daemon-url http://127.0.0.1:3233 --keys-file data/keys --workload constant
  go run ./bench sweep --out sweep-out   # policies × budgets × seeds on a simulated clock`,
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runBench(cmd.Context(), &o, cmd, stdout, stderr, progress)
		},
	}
	fs := cmd.Flags()
	fs.SortFlags = false
	fs.StringVar(&o.Target, "target", "fake", "fake, docker or daemon")
	o.Workload.register(fs)

	fs.StringVar(&o.ConfigFile, "config", "", "YAML configuration file of the pool (fake and docker targets)")
	fs.StringArrayVar(&o.Set, "set", nil, "any setting key=value, applied after the dedicated flags (repeatable)")
	fs.StringVar(&o.UserMemory, "user-memory", "", "container-pool.user-memory (e.g. 4g)")
	fs.StringVar(&o.Prewarm, "prewarm", "", "on or off: off removes every stem cell from the runtimes manifest (default on)")
	fs.StringVar(&o.StemCells, "stem-cells", "", "stem cells of --kind: auto[:N] (N per memory size the workload uses; default auto:2) or MEM:COUNT+MEM:COUNT")
	fs.StringVar(&o.Promotion, "promotion", "", "container-pool.prewarm-promotion: on or off")
	fs.StringVar(&o.IdleContainer, "idle-container", "", "container-proxy.timeouts.idle-container (keep-alive of idle containers)")
	fs.StringVar(&o.PauseGrace, "pause-grace", "", "container-proxy.timeouts.pause-grace")
	fs.StringVar(&o.B, "compare", "", "run side by side: B = the configuration plus these settings (k=v,k=v)")
	fs.StringVar(&o.A, "a", "", "with --compare: settings of side A only")

	o.Fake.register(fs)
	fs.StringVar(&o.Docker.Binary, "invoker-binary", "", "docker target: static invoker binary for the runtime image (default: build ./cmd/invoker with CGO_ENABLED=0)")
	fs.StringVar(&o.Docker.ImageTag, "runtime-image-tag", benchImageTag, "docker target: tag of the runtime image built from the binary (stemcell/action-runtime:TAG; kept for the next run)")
	fs.StringVar(&o.Daemon.URL, "daemon-url", "http://127.0.0.1:3233", "daemon target: base URL of the daemon")
	fs.StringVar(&o.Daemon.Auth, "auth", "", "daemon target: uuid:key credential (default: the first key of --keys-file)")
	fs.StringVar(&o.Daemon.KeysFile, "keys-file", "data/keys", "daemon target: the daemon's keys file")
	fs.StringVar(&o.Daemon.Namespace, "namespace", "_", "daemon target: namespace of the actions")

	fs.StringVar(&o.Kind, "kind", "js:goja", "runtime kind of the actions")
	fs.DurationVar(&o.ActionTimeout, "action-timeout", time.Minute, "time limit of every action")
	fs.DurationVar(&o.InvokeTimeout, "invoke-timeout", 2*time.Minute, "give up on an activation this long after its arrival")
	fs.DurationVar(&o.SampleEvery, "sample-interval", 100*time.Millisecond, "memory sampling period")
	fs.DurationVar(&o.Warmup, "warmup", 0, "leave the activations that arrive in this first part of the run out of the figures (they still run); memory is sampled throughout")
	fs.StringVar(&o.Out, "out", "", "directory for bench.json and the PNG plots (default: none, stdout only)")
	fs.StringVar(&o.LogLevel, "log-level", "warn", "log level of the pool's logs on stderr")
	cmd.AddCommand(newSweepCommand(args, stdout, stderr))
	return cmd
}

// baseSettings are the settings the dedicated flags and --set give, in
// that order.
func (o *options) baseSettings(cmd *cobra.Command) ([]setting, error) {
	var out []setting
	for _, f := range []struct{ flag, key, value string }{
		{"user-memory", "user-memory", o.UserMemory},
		{"prewarm", keyPrewarm, o.Prewarm},
		{"stem-cells", keyStemCells, o.StemCells},
		{"promotion", "promotion", o.Promotion},
		{"idle-container", "idle-container", o.IdleContainer},
		{"pause-grace", "pause-grace", o.PauseGrace},
	} {
		if !cmd.Flags().Changed(f.flag) {
			continue
		}
		s, err := parseSetting(f.flag, f.key+"="+f.value)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	for _, v := range o.Set {
		s, err := parseSetting("set", v)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// side is one configuration of a run.
type side struct {
	Label    string
	Settings []setting
}

func (o *options) sides(cmd *cobra.Command) ([]side, error) {
	base, err := o.baseSettings(cmd)
	if err != nil {
		return nil, err
	}
	a, err := parseSettings("a", o.A)
	if err != nil {
		return nil, err
	}
	b, err := parseSettings("compare", o.B)
	if err != nil {
		return nil, err
	}
	if !cmd.Flags().Changed("compare") {
		if len(a) > 0 {
			return nil, errors.New("--a needs --compare: it sets side A of a side-by-side run")
		}
		return []side{{Label: "run", Settings: base}}, nil
	}
	if len(b) == 0 && len(a) == 0 {
		return nil, errors.New("--compare needs settings, e.g. --compare prewarm=off")
	}
	return []side{
		{Label: "A", Settings: append(append([]setting(nil), base...), a...)},
		{Label: "B", Settings: append(append([]setting(nil), base...), b...)},
	}, nil
}

func newLogger(level string, w io.Writer) (zerolog.Logger, error) {
	lvl, err := zerolog.ParseLevel(level)
	if err != nil {
		return zerolog.Nop(), fmt.Errorf("--log-level %q is invalid: %w", level, err)
	}
	return zerolog.New(zerolog.ConsoleWriter{Out: w, NoColor: true, TimeFormat: time.TimeOnly}).Level(lvl).With().Timestamp().Logger(), nil
}

func runBench(ctx context.Context, o *options, cmd *cobra.Command, stdout, stderr io.Writer, progress bool) error {
	log, err := newLogger(o.LogLevel, stderr)
	if err != nil {
		return err
	}
	sides, err := o.sides(cmd)
	if err != nil {
		return err
	}
	if o.Target == "daemon" && (len(sides) > 1 || len(sides[0].Settings) > 0 || o.ConfigFile != "") {
		return errors.New("--target daemon runs the daemon's own configuration: pool settings and --compare need --target fake or docker")
	}
	if o.Target != "fake" && o.Target != "docker" && o.Target != "daemon" {
		return fmt.Errorf("--target %q is invalid: must be fake, docker or daemon", o.Target)
	}
	if o.SampleEvery <= 0 || o.InvokeTimeout <= 0 || o.ActionTimeout <= 0 {
		return errors.New("--sample-interval, --invoke-timeout and --action-timeout must be > 0")
	}
	w, err := o.Workload.generate()
	if err != nil {
		return err
	}
	if len(w.Arrivals) == 0 {
		return fmt.Errorf("workload %s has no arrivals: raise --rate or --duration", w.Name)
	}
	if last := w.Arrivals[len(w.Arrivals)-1].At; o.Warmup < 0 || o.Warmup > last {
		return fmt.Errorf("--warmup %s is invalid: must be >= 0 and leave arrivals after it (the last is at %s)", o.Warmup, last)
	}
	if o.Out != "" {
		if err := os.MkdirAll(o.Out, 0o755); err != nil {
			return fmt.Errorf("--out: %w", err)
		}
	}
	fmt.Fprintf(stdout, "workload %s: seed %d, %d functions, %d arrivals over %s (%.1f/s), target %s\n\n",
		w.Name, w.Seed, len(w.Functions), len(w.Arrivals), w.Duration, float64(len(w.Arrivals))/w.Duration.Seconds(), o.Target)
	if o.Warmup > 0 {
		fmt.Fprintf(stdout, "warm-up: the figures leave out the activations that arrive in the first %s\n\n", o.Warmup)
	}

	file := resultFile{Started: time.Now().UTC(), Command: append([]string{"bench"}, o.args...), Target: o.Target,
		Workload: describeWorkload(o.Workload, w)}
	if o.Target == "fake" {
		file.Fake = &o.Fake
	}
	var binDir string
	defer func() {
		if binDir != "" {
			_ = os.RemoveAll(binDir)
		}
	}()
	for _, s := range sides {
		res, err := o.runSide(ctx, s, w, log, stderr, progress, &binDir)
		if err != nil {
			return fmt.Errorf("%s: %w", s.Label, err)
		}
		title := s.Label
		if len(s.Settings) > 0 {
			title += " (" + joinSettings(s.Settings) + ")"
		}
		if err := report.WriteTable(stdout, title, res.Summary); err != nil {
			return err
		}
		writeOverhead(stdout, res.Overhead)
		fmt.Fprintln(stdout)
		if o.Out != "" {
			prefix := ""
			if len(sides) > 1 {
				prefix = strings.ToLower(s.Label) + "-"
			}
			if res.Plots, err = report.Plots(o.Out, prefix, res.samples, res.memory, res.Summary); err != nil {
				return err
			}
		}
		file.Runs = append(file.Runs, res)
		if ctx.Err() != nil {
			break
		}
	}
	if len(file.Runs) == 2 {
		file.Compare = compareOverhead(report.Compare(file.Runs[0].Summary, file.Runs[1].Summary),
			file.Runs[0].Overhead, file.Runs[1].Overhead)
		fmt.Fprintln(stdout, "side by side (B/A):")
		if err := report.WriteComparison(stdout, "A", "B", file.Compare); err != nil {
			return err
		}
	}
	if o.Out != "" {
		path, err := file.write(o.Out)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "\nwrote %s", path)
		for _, r := range file.Runs {
			for _, p := range r.Plots {
				fmt.Fprintf(stdout, " %s", p)
			}
		}
		fmt.Fprintln(stdout)
	}
	return ctx.Err()
}

// writeOverhead continues the table with latency less execution time.
func writeOverhead(w io.Writer, o overhead) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  overhead (latency - exec)\t%s\n", report.FormatPercentiles(o.All))
	for _, k := range report.KindOrder(o.ByStartKind) {
		fmt.Fprintf(tw, "    %s\t%s\n", k, report.FormatPercentiles(o.ByStartKind[k]))
	}
	_ = tw.Flush()
}

func joinSettings(ss []setting) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = s.String()
	}
	return strings.Join(parts, ",")
}

// runSide runs the workload on one configuration and summarises it.
func (o *options) runSide(ctx context.Context, s side, w *workload.Workload, log zerolog.Logger, stderr io.Writer,
	progress bool, binDir *string) (runResult, error) {
	res := runResult{Label: s.Label}
	tg, err := o.newTarget(ctx, s, w, log, binDir, &res)
	if err != nil {
		return res, err
	}
	opts := driveOptions{SampleEvery: o.SampleEvery, InvokeTimeout: o.InvokeTimeout}
	if progress {
		bar := progressbar.NewOptions(len(w.Arrivals), progressbar.OptionSetWriter(stderr),
			progressbar.OptionSetDescription(s.Label), progressbar.OptionShowCount(), progressbar.OptionShowIts(),
			progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish())
		opts.Done = func() { _ = bar.Add(1) }
		defer func() { _ = bar.Finish() }()
	}
	r := drive(ctx, tg, w, opts)
	ectx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	evicted, everr := tg.evictions(ectx)
	cancel()
	cctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	cerr := tg.close(cctx)
	cancel()
	if err := errors.Join(everr, cerr); err != nil {
		return res, err
	}
	samples, execs, wall := afterWarmup(r.Samples, w, r.Wall, o.Warmup)
	res.Summary = report.Summarize(samples, r.Memory, wall, evicted)
	res.Overhead = overheadOf(samples, execs, wall)
	res.samples, res.memory = r.Samples, r.Memory
	return res, nil
}

func (o *options) newTarget(ctx context.Context, s side, w *workload.Workload, log zerolog.Logger, binDir *string, res *runResult) (target, error) {
	if o.Target == "daemon" {
		res.Config = &runConfig{Settings: []setting{}}
		return newDaemonTarget(ctx, o.Daemon, w, o.ActionTimeout, randomHex(3))
	}
	cfg, rc, err := buildConfig(o.ConfigFile, s.Settings, o.Kind, w)
	if err != nil {
		return nil, err
	}
	if rc.Settings == nil {
		rc.Settings = []setting{}
	}
	res.Config = &rc
	name := "bench-" + strings.ToLower(s.Label)
	if o.Target == "fake" {
		ls, err := o.Fake.latencies()
		if err != nil {
			return nil, err
		}
		return newFakeTarget(cfg, ls, o.Workload.Seed, o.Kind, w, o.ActionTimeout, log, name)
	}
	if o.Docker.Binary == "" {
		if *binDir == "" {
			if *binDir, err = os.MkdirTemp("", "stemcell-bench-"); err != nil {
				return nil, err
			}
		}
		if o.Docker.Binary, err = invokerBinary(ctx, "", *binDir); err != nil {
			return nil, err
		}
	}
	return newDockerTarget(cfg, &rc, o.Docker, o.Kind, w, o.ActionTimeout, log, name)
}
