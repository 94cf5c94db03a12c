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
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/stemcell-io/stemcell/cluster"
	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/front"
	"github.com/stemcell-io/stemcell/server"
	"github.com/stemcell-io/stemcell/store"
)

func init() {
	cmd := &cobra.Command{
		Use:   "front",
		Short: "Run a cluster front: the OpenWhisk API without a pool, placing each invoke on the cluster's invokers",
		Long: `Run a cluster front: the OpenWhisk API without a pool. It authenticates with the
invokers' keys file, serves actions, places each invoke on an invoker of the cluster
(cluster.endpoints, cluster.name) and forwards it, and finds activation records on
whichever invoker holds them. Its data directory holds only the records of activations
whose invoker was lost. It needs cluster.endpoints.`,
		Args: cobra.NoArgs,
		RunE: runFront,
	}
	addRunFlags(cmd.Flags())
	rootCmd.AddCommand(cmd)
}

// errNoEndpoints: a front without etcd has no invokers to send to.
var errNoEndpoints = errors.New(`cluster.endpoints: [] is invalid: invoker front needs etcd's client URLs to find the invokers; set them in the configuration file (cluster: {endpoints: [...]}), with STEMCELL_CLUSTER__ENDPOINTS, or with --set cluster.endpoints=http://127.0.0.1:2379`)

func runFront(cmd *cobra.Command, _ []string) error {
	cfg, err := config.Load(config.LoadOptions{Flags: cmd.Flags()})
	if err != nil {
		return invalidConfig(cmd.ErrOrStderr(), err)
	}
	scfg, err := serverConfig(cmd.Flags(), cfg.Server)
	if err != nil {
		return invalidConfig(cmd.ErrOrStderr(), err)
	}
	if !cfg.Cluster.Enabled() {
		return invalidConfig(cmd.ErrOrStderr(), errNoEndpoints)
	}
	log := newLogger(scfg, os.Stderr)
	ctx, stopSignals := signal.NotifyContext(cmd.Context(), syscall.SIGTERM, os.Interrupt)
	defer stopSignals()
	return frontDaemon(ctx, cfg, scfg, log, cmd.ErrOrStderr())
}

// frontID names the front in the hop header and its logs: cluster.id, or
// front@<listen address> (invoker.name would name an invoker).
func frontID(cc config.ClusterConfig, addr string) string {
	if cc.ID != "" {
		return cc.ID
	}
	return "front@" + addr
}

// frontDaemon serves the front until ctx ends, then stops gracefully:
// invokes get 503, those being forwarded finish (within
// server.shutdown-deadline) or are recorded as lost, and the view and the
// etcd client close.
func frontDaemon(ctx context.Context, cfg *config.Config, scfg config.ServerConfig, log zerolog.Logger, stderr io.Writer) error {
	ln, err := net.Listen("tcp", scfg.Listen)
	if err != nil {
		return startError("server.listen "+scfg.Listen, err)
	}
	defer ln.Close()
	handler := &swapHandler{}
	handler.set(startingHandler())
	httpSrv := server.NewHTTPServer(handler, scfg)
	served := make(chan error, 1)
	go func() { served <- httpSrv.Serve(ln) }()
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = httpSrv.Shutdown(sctx)
	}()

	st, err := store.Open(scfg.DataDir, store.Options{
		RetentionAge: scfg.Retention.MaxAge, RetentionCount: scfg.Retention.MaxCount, Log: log,
	})
	if err != nil {
		return startError("server.data-dir", err)
	}
	defer st.Close()
	// The front's records (lost activations) age out as an invoker's do.
	pruneStop, pruneDone := make(chan struct{}), make(chan struct{})
	go prunePeriodically(st, log, pruneStop, pruneDone)
	defer func() { close(pruneStop); <-pruneDone }()
	keys, created, err := server.LoadOrCreateKeys(scfg.KeysFile)
	if err != nil {
		return startError("server.keys-file", err)
	}
	if created {
		fmt.Fprintf(stderr, "invoker: generated an API key for namespace guest in %s (mode 0600): the invokers need the same keys file\n", scfg.KeysFile)
	}

	// Action documents live in etcd, shared with the invokers and the
	// other fronts; the front's own store keeps only lost activations.
	cc := cfg.Cluster
	cs, err := openClusterStore(cfg, scfg.MaxBodySize, log)
	if err != nil {
		return startError("cluster", err)
	}
	defer func() { _ = cs.close() }()
	cli := cs.cli
	view, err := cluster.NewView(cli, cluster.ViewOptions{Cluster: cc.Name, Logger: log})
	if err != nil {
		return startError("cluster.name", err)
	}
	defer view.Close()

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	id := frontID(cc, ln.Addr().String())
	f, err := front.New(front.Options{
		Config: cfg, Server: scfg, ID: id, Store: st, Actions: cs.actions, Keys: keys,
		View: front.ClusterView(view), Log: log, Registry: reg, Gatherer: reg,
		Build: buildDate(), BuildNo: buildID(),
	})
	if err != nil {
		return startError("front", err)
	}
	handler.set(f.Handler())
	// Scripts and tests wait for this line, so it is written at any level;
	// /readyz says 503 until the view has listed the invokers.
	log.Log().Str(zerolog.LevelFieldName, zerolog.InfoLevel.String()).Str("addr", ln.Addr().String()).
		Str("front", id).Str("cluster", cc.Name).Strs("endpoints", cc.Endpoints).Msg("ready")
	go func() {
		select {
		case <-view.Ready():
			log.Info().Int("invokers", view.Current().Len()).Msg("cluster view listed")
		case <-ctx.Done():
		}
	}()

	var serveErr error
	select {
	case <-ctx.Done():
		log.Info().Msg("signal received: stopping")
	case serveErr = <-served:
		log.Error().Err(serveErr).Msg("HTTP server failed: stopping")
	}
	sctx, cancel := context.WithTimeout(context.Background(), scfg.ShutdownDeadline)
	if err := f.Shutdown(sctx); err != nil {
		log.Warn().Err(err).Msg("invokes still forwarded at the shutdown deadline were answered as lost")
	}
	cancel()
	hctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	if err := httpSrv.Shutdown(hctx); err != nil {
		log.Warn().Err(err).Msg("HTTP connections still open at exit")
	}
	cancel()
	view.Close()
	if err := cs.close(); err != nil {
		log.Warn().Err(err).Msg("closing the etcd client")
	}
	if err := st.Close(); err != nil {
		return &exitError{code: 1, err: fmt.Errorf("stop: store: %w", err)}
	}
	log.Info().Msg("stopped")
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return &exitError{code: 1, err: fmt.Errorf("serve: %w", serveErr)}
	}
	return nil
}
