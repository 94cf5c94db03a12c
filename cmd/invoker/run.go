package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/rs/zerolog"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/stemcell-io/stemcell/actors"
	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/factory"
	_ "github.com/stemcell-io/stemcell/factory/docker" // registers the "docker" provider
	_ "github.com/stemcell-io/stemcell/factory/fake"   // registers "fake": no containers, for development clusters and load tests
	"github.com/stemcell-io/stemcell/pool"
	"github.com/stemcell-io/stemcell/server"
	"github.com/stemcell-io/stemcell/store"
)

// `invoker run` is also what `invoker` alone does.
func init() {
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run the invoker daemon: the OpenWhisk-compatible API over the container pool (the default command)",
		Args:  cobra.NoArgs,
		RunE:  runDaemon,
	}
	addRunFlags(cmd.Flags())
	rootCmd.AddCommand(cmd)
	addRunFlags(rootCmd.Flags())
	rootCmd.Args = cobra.NoArgs
	rootCmd.RunE = runDaemon
}

// Daemon flags; their keys would be server.* in a configuration tree.
const (
	flagListen           = "listen"
	flagDataDir          = "data-dir"
	flagKeysFile         = "keys-file"
	flagBlockingWait     = "blocking-wait"
	flagMaxBodySize      = "max-body-size"
	flagShutdownDeadline = "shutdown-deadline"
	flagPprof            = "pprof"
	flagRetentionAge     = "retention-max-age"
	flagRetentionCount   = "retention-max-count"
	flagLogLevel         = "log-level"
	flagLogFormat        = "log-format"
)

func addRunFlags(fs *pflag.FlagSet) {
	config.RegisterFlags(fs)
	d := config.DefaultServer()
	fs.String(flagListen, d.Listen, "host:port of the HTTP API (port 0 picks a free one; the ready log line names it)")
	fs.String(flagDataDir, d.DataDir, "directory of the database and of the generated keys file")
	fs.String(flagKeysFile, "", "API keys file, lines of \"uuid:key namespace\" (default <data-dir>/keys; created with a guest key when missing)")
	fs.Duration(flagBlockingWait, d.BlockingWait, "how long a blocking invoke waits before answering 202 with the activation id")
	fs.String(flagMaxBodySize, d.MaxBodySize.String(), "largest action PUT body (invoke bodies: limits.payload.max)")
	fs.Duration(flagShutdownDeadline, d.ShutdownDeadline, "on SIGTERM, how long running activations may finish before they get an internal error")
	fs.Bool(flagPprof, d.Pprof, "serve /debug/pprof/")
	fs.Duration(flagRetentionAge, d.Retention.MaxAge, "drop activation records older than this (0: keep)")
	fs.Int(flagRetentionCount, d.Retention.MaxCount, "keep at most this many activation records (0: no limit)")
	fs.String(flagLogLevel, d.LogLevel, "trace, debug, info, warn or error")
	fs.String(flagLogFormat, d.LogFormat, "auto (console on a terminal, else JSON), json or console")
}

// serverConfig applies the daemon flags that were set over base (the
// configuration's server section) and validates the result: flags win
// over the file and the environment, as for every other key.
func serverConfig(fs *pflag.FlagSet, base config.ServerConfig) (config.ServerConfig, error) {
	s := base
	var errs []error
	set := func(name string, apply func() error) {
		if f := fs.Lookup(name); f != nil && f.Changed {
			if err := apply(); err != nil {
				errs = append(errs, fmt.Errorf("--%s: %w", name, err))
			}
		}
	}
	str := func(dst *string, name string) {
		set(name, func() (err error) { *dst, err = fs.GetString(name); return err })
	}
	dur := func(dst *time.Duration, name string) {
		set(name, func() (err error) { *dst, err = fs.GetDuration(name); return err })
	}
	str(&s.Listen, flagListen)
	str(&s.DataDir, flagDataDir)
	str(&s.KeysFile, flagKeysFile)
	str(&s.LogLevel, flagLogLevel)
	str(&s.LogFormat, flagLogFormat)
	dur(&s.BlockingWait, flagBlockingWait)
	dur(&s.ShutdownDeadline, flagShutdownDeadline)
	dur(&s.Retention.MaxAge, flagRetentionAge)
	set(flagRetentionCount, func() (err error) { s.Retention.MaxCount, err = fs.GetInt(flagRetentionCount); return err })
	set(flagPprof, func() (err error) { s.Pprof, err = fs.GetBool(flagPprof); return err })
	set(flagMaxBodySize, func() error {
		v, err := fs.GetString(flagMaxBodySize)
		if err != nil {
			return err
		}
		if s.MaxBodySize, err = config.ParseByteSize(v); err != nil {
			return fmt.Errorf("%q is invalid: %w", v, err)
		}
		return nil
	})
	if err := errors.Join(errs...); err != nil {
		return s, err
	}
	if s.KeysFile == "" {
		s.KeysFile = filepath.Join(s.DataDir, "keys")
	}
	return s, s.Validate("server")
}

// newLogger is the root logger: JSON, or console output on a terminal.
func newLogger(s config.ServerConfig, out *os.File) zerolog.Logger {
	lvl, err := zerolog.ParseLevel(s.LogLevel)
	if err != nil || s.LogLevel == "" {
		lvl = zerolog.InfoLevel
	}
	zerolog.TimeFieldFormat = time.RFC3339Nano
	var w io.Writer = out
	fi, _ := out.Stat()
	if s.LogFormat == "console" || (s.LogFormat == "auto" && fi != nil && fi.Mode()&os.ModeCharDevice != 0) {
		w = zerolog.ConsoleWriter{Out: out, TimeFormat: time.TimeOnly}
	}
	return zerolog.New(w).Level(lvl).With().Timestamp().Str("svc", "invoker").Logger()
}

// startError makes a start failure name its step and exit 1.
func startError(step string, err error) error {
	return &exitError{code: 1, err: fmt.Errorf("start: %s: %w", step, err)}
}

// buildID is GET /api/v1's buildno: the commit the binary was built from.
func buildID() string {
	if v := buildSetting("vcs.revision"); len(v) >= 12 {
		return v[:12]
	}
	return "dev"
}

// buildDate is GET /api/v1's build, a date in OpenWhisk's form
// (wsk property get --apibuild): the commit's time, else the binary's
// modification time, else "" (the server then uses its start).
func buildDate() string {
	if t, err := time.Parse(time.RFC3339, buildSetting("vcs.time")); err == nil {
		return t.UTC().Format(server.BuildDateLayout)
	}
	if exe, err := os.Executable(); err == nil {
		if fi, err := os.Stat(exe); err == nil {
			return fi.ModTime().UTC().Format(server.BuildDateLayout)
		}
	}
	return ""
}

func buildSetting(key string) string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == key {
				return s.Value
			}
		}
	}
	return ""
}

func runDaemon(cmd *cobra.Command, _ []string) error {
	cfg, err := config.Load(config.LoadOptions{Flags: cmd.Flags()})
	if err != nil {
		return invalidConfig(cmd.ErrOrStderr(), err)
	}
	scfg, err := serverConfig(cmd.Flags(), cfg.Server)
	if err != nil {
		return invalidConfig(cmd.ErrOrStderr(), err)
	}
	log := newLogger(scfg, os.Stderr)
	ctx, stopSignals := signal.NotifyContext(cmd.Context(), syscall.SIGTERM, os.Interrupt)
	defer stopSignals()
	return daemon(ctx, cfg, scfg, log, cmd.ErrOrStderr())
}

// daemon starts everything, serves until ctx ends (a signal), then shuts
// down in order. Every accepted activation is answered and recorded.
func daemon(ctx context.Context, cfg *config.Config, scfg config.ServerConfig, log zerolog.Logger, stderr io.Writer) error {
	// Bind first: a taken port fails in milliseconds, not after the image build.
	ln, err := net.Listen("tcp", scfg.Listen)
	if err != nil {
		return startError("server.listen "+scfg.Listen, err)
	}
	defer ln.Close()
	// Serve at once: while the image builds and the pool starts, probes get
	// /healthz 200 and /readyz 503, API calls 503.
	handler := &swapHandler{}
	handler.set(startingHandler())
	httpSrv := server.NewHTTPServer(handler, scfg)
	served := make(chan error, 1)
	go func() { served <- httpSrv.Serve(ln) }()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = httpSrv.Shutdown(ctx)
	}()

	st, err := store.Open(scfg.DataDir, store.Options{
		RetentionAge: scfg.Retention.MaxAge, RetentionCount: scfg.Retention.MaxCount, Log: log,
	})
	if err != nil {
		return startError("server.data-dir", err)
	}
	defer st.Close()
	// In cluster mode the action documents live in etcd, shared by every
	// front and invoker; activation records stay in st.
	var cs *clusterStore
	var docs server.Actions // nil: st
	if cfg.Cluster.Enabled() {
		if cs, err = openClusterStore(cfg, scfg.MaxBodySize, log); err != nil {
			return startError("cluster", err)
		}
		defer func() {
			if err := cs.close(); err != nil {
				log.Warn().Err(err).Msg("cluster: closing the etcd client")
			}
		}()
		docs = cs.actions
	}
	keys, created, err := server.LoadOrCreateKeys(scfg.KeysFile)
	if err != nil {
		return startError("server.keys-file", err)
	}
	if created {
		log.Warn().Str("keys_file", scfg.KeysFile).Msg("generated an API key for namespace guest")
		fmt.Fprintf(stderr, "invoker: generated an API key for namespace guest in %s (mode 0600)\n", scfg.KeysFile)
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	sys := actors.NewSystem(log)
	defer sys.Shutdown()
	apiAddr := ln.Addr().(*net.TCPAddr)
	fac, err := newContainerFactory(cfg, log, apiAddr)
	if err != nil {
		return startError("container-factory", err)
	}
	log.Info().Str("invoker", cfg.Invoker.Name).Msg("starting the pool: removing leftovers, building the runtime image")
	p, err := pool.Spawn(sys.Root, pool.Options{Config: cfg, Factory: fac, Log: log, Registerer: reg, Name: "pool"})
	if err != nil {
		return startError("pool", err)
	}
	srv, err := server.New(server.Options{
		Config: cfg, Server: scfg, Store: st, Actions: docs, Invoker: p, Keys: keys, Log: log,
		Registry: reg, Gatherer: reg, Build: buildDate(), BuildNo: buildID(),
	})
	if err != nil {
		shutdownPool(p, fac, 0, log)
		return startError("server", err)
	}
	handler.set(srv.Handler())
	gwLn, err := gatewayListener(cfg, fac, apiAddr)
	if err != nil {
		shutdownPool(p, fac, 0, log)
		return startError("invoker.api-host", err)
	}
	if gwLn != nil {
		gwSrv := server.NewHTTPServer(handler, scfg)
		serveAlso(gwLn, gwSrv, log)
		defer func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = gwSrv.Shutdown(ctx)
		}()
	}

	pruneStop := make(chan struct{})
	pruneDone := make(chan struct{})
	go prunePeriodically(st, log, pruneStop, pruneDone)

	var mem *member
	if cfg.Cluster.Enabled() {
		addr, err := advertisedAddress(cfg.Cluster, ln.Addr())
		if err == nil {
			mem, err = joinCluster(ctx, cfg, cs.cli, sys.Root, p, addr, log)
		}
		if err != nil {
			shutdownPool(p, fac, 0, log)
			return startError("cluster", err)
		}
	}

	srv.SetReady(true)
	// Scripts and tests wait for this line, so it is written at any log
	// level.
	log.Log().Str(zerolog.LevelFieldName, zerolog.InfoLevel.String()).Str("addr", ln.Addr().String()).
		Str("data_dir", scfg.DataDir).Int("invokes_concurrent", cfg.Limits.Actions.Invokes.Concurrent).
		Int("invokes_per_minute", cfg.Limits.Actions.Invokes.PerMinute).Msg("ready")

	var serveErr error
	select {
	case <-ctx.Done():
		log.Info().Msg("signal received: stopping")
	case serveErr = <-served:
		log.Error().Err(serveErr).Msg("HTTP server failed: stopping")
	}

	// 1. New work gets 503; running activations continue. Fronts stop
	// sending (the draining mark).
	srv.StopAccepting()
	if mem != nil {
		dctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		if err := mem.drain(dctx); err != nil {
			log.Warn().Err(err).Msg("cluster: the draining mark was not written; fronts learn of the stop when the lease goes")
		}
		cancel()
	}
	// 2. The pool lets running work finish until the deadline, answers
	// the rest with an internal error and destroys every container.
	shutdownPool(p, fac, scfg.ShutdownDeadline, log)
	if mem != nil {
		// The lease goes back: the invoker leaves every view at once.
		if err := mem.leave(); err != nil {
			log.Warn().Err(err).Msg("cluster: leaving")
		}
	}
	// 3. Whatever the pool left unanswered is recorded as stopped.
	srv.Abandon()
	wctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	if err := srv.WaitIdle(wctx); err != nil {
		log.Error().Err(err).Int("in_flight", srv.InFlight()).Msg("activations still unrecorded at exit")
	}
	cancel()
	// 4. Blocking requests have their answers; close the listener.
	hctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	if err := httpSrv.Shutdown(hctx); err != nil {
		log.Warn().Err(err).Msg("HTTP connections still open at exit")
	}
	cancel()
	close(pruneStop)
	<-pruneDone
	// 5. Flush and close the store.
	if err := st.Close(); err != nil {
		return &exitError{code: 1, err: fmt.Errorf("stop: store: %w", err)}
	}
	log.Info().Msg("stopped")
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return &exitError{code: 1, err: fmt.Errorf("serve: %w", serveErr)}
	}
	return nil
}

// shutdownPool stops the pool. The pool gives running work half the time
// left before the context's deadline and uses the other half to destroy
// containers, so the context gets twice the shutdown deadline. A final
// Cleanup removes any container the pool could not, so none outlives the
// daemon.
func shutdownPool(p *pool.Pool, fac factory.ContainerFactory, deadline time.Duration, log zerolog.Logger) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 2*max(deadline, time.Second))
	defer cancel()
	if err := p.Shutdown(ctx); err != nil {
		log.Error().Err(err).Msg("pool shutdown")
	}
	cctx, ccancel := context.WithTimeout(context.Background(), time.Minute)
	defer ccancel()
	if err := fac.Cleanup(cctx); err != nil {
		log.Error().Err(err).Msg("container cleanup")
	}
	if c, ok := fac.(io.Closer); ok {
		_ = c.Close()
	}
	log.Info().Dur("took", time.Since(start)).Msg("pool stopped, containers removed")
}

func prunePeriodically(st *store.Store, log zerolog.Logger, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			if n, err := st.Prune(); err != nil {
				log.Error().Err(err).Msg("retention")
			} else if n > 0 {
				log.Info().Int("deleted", n).Msg("retention: old activation records deleted")
			}
		}
	}
}
