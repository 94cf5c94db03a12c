// Package server is the standalone daemon's HTTP API: the part of Apache
// OpenWhisk's REST API v1 that its clients use for actions and activations,
// with authentication, admission, and the operations endpoints. Activations
// run through an Invoker (the pool) and their records go to a store.Store.
package server

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/stemcell-io/stemcell/actors"
	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/store"
)

// Invoker runs activations: the pool, or a stand-in in tests.
type Invoker interface {
	// Enqueue hands a to the pool and returns once the pool has accepted it
	// (queued it or started it): nil, with the channel on which its one
	// result will arrive, which keeps it until read; or the pool's refusal
	// (errors.Is(err, actors.ErrBufferFull), actors.ErrShuttingDown, ...),
	// or ctx's error.
	Enqueue(ctx context.Context, a actors.Activation) (<-chan *actors.RunResult, error)
	// Submit hands a to the pool and returns at once; a refusal comes as
	// the result's Err. A blocking invoke, which waits for the result
	// anyway, spares Enqueue's acknowledgement with it.
	Submit(a actors.Activation) <-chan *actors.RunResult
	Snapshot(ctx context.Context) (actors.MemorySnapshot, error)
}

// Options configure a Server.
type Options struct {
	Config *config.Config
	Server config.ServerConfig
	Store  *store.Store
	// Actions holds the action documents; nil: Store.
	Actions Actions
	Invoker Invoker
	// Forwarder, when set, answers invokes and activation reads in the
	// server's place (a cluster front); Invoker is then never called.
	Forwarder Forwarder
	Keys      *Keys
	Log       zerolog.Logger
	// Registry receives the API's metrics; Gatherer serves /metrics. Both
	// nil: a private registry.
	Registry prometheus.Registerer
	Gatherer prometheus.Gatherer
	Now      func() time.Time // nil: time.Now
	// Build and BuildNo are GET /api/v1's build (a date in OpenWhisk's
	// form, 2006-01-02T15:04:05Z; empty: when New ran) and buildno.
	Build   string
	BuildNo string
}

// Server serves the API. Its zero value is not usable; call New.
type Server struct {
	cfg      *config.Config
	scfg     config.ServerConfig
	store    *store.Store
	docs     Actions
	inv      Invoker
	fwd      Forwarder
	keys     *Keys
	log      zerolog.Logger
	now      func() time.Time
	build    string
	buildNo  string
	gatherer prometheus.Gatherer
	metrics  *metrics
	admit    *admission
	actions  actionCache
	kinds    []string // valid kinds, for the unknown-kind message
	uploads  uploadGate

	accepting atomic.Bool // false once draining starts
	ready     atomic.Bool

	// workers counts activation goroutines, which outlive their requests.
	workers sync.WaitGroup
	// stop is cancelled when the server gives up on running activations.
	stop   context.Context
	cancel context.CancelFunc
}

// New makes a server. It is not ready (see SetReady) until the caller says so.
func New(opts Options) (*Server, error) {
	switch {
	case opts.Config == nil:
		return nil, errors.New("server: Options.Config is nil")
	case opts.Store == nil:
		return nil, errors.New("server: Options.Store is nil")
	case opts.Invoker == nil:
		return nil, errors.New("server: Options.Invoker is nil")
	case opts.Keys == nil:
		return nil, errors.New("server: Options.Keys is nil")
	}
	if err := opts.Server.Validate("server"); err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Build == "" {
		opts.Build = opts.Now().UTC().Format(BuildDateLayout)
	}
	reg, gat := opts.Registry, opts.Gatherer
	if reg == nil && gat == nil {
		r := prometheus.NewRegistry()
		reg, gat = r, r
	}
	s := &Server{
		cfg: opts.Config, scfg: opts.Server, store: opts.Store, inv: opts.Invoker, keys: opts.Keys,
		log: opts.Log.With().Str("component", "api").Logger(), now: opts.Now, build: opts.Build,
		buildNo: opts.BuildNo, gatherer: gat,
	}
	s.docs = opts.Actions
	s.fwd = opts.Forwarder
	if s.docs == nil {
		s.docs = opts.Store
	}
	if ch, ok := s.docs.(ActionChanges); ok {
		ch.OnChange(s.actions.forget)
	}
	s.stop, s.cancel = context.WithCancel(context.Background())
	s.kinds = manifestKinds(opts.Config.RuntimesManifest.Manifest)
	limits := opts.Config.Limits.Actions.Invokes
	s.admit = newAdmission(limits.Concurrent, limits.PerMinute, opts.Now)
	m, err := newMetrics(reg, s.admit)
	if err != nil {
		return nil, err
	}
	s.metrics = m
	s.accepting.Store(true)
	return s, nil
}

// SetReady marks the daemon ready (/readyz 200) once everything started.
func (s *Server) SetReady(ready bool) { s.ready.Store(ready) }

// StopAccepting makes new work answer 503 and /readyz fail; activations
// already accepted keep running.
func (s *Server) StopAccepting() {
	s.accepting.Store(false)
	s.ready.Store(false)
}

// InFlight is the number of accepted activations without a result.
func (s *Server) InFlight() int { return s.admit.count() }

// WaitIdle returns once every accepted activation has its result recorded,
// or with ctx's error.
func (s *Server) WaitIdle(ctx context.Context) error {
	if err := s.admit.wait(ctx); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() { s.workers.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Abandon answers every activation still waiting for the invoker with an
// internal error. The daemon calls it after the pool's shutdown, so that no
// accepted activation is left without a record even if the pool failed to
// answer.
func (s *Server) Abandon() { s.cancel() }
