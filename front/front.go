// Package front is Stemcell's cluster front: the OpenWhisk API without a
// pool. It authenticates and serves actions like the daemon (through an
// embedded server.Server), places every invoke on an invoker with route,
// forwards it over pooled keep-alive HTTP, and finds activation records on
// whichever invoker holds them. README.md gives the rules.
package front

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/route"
	"github.com/stemcell-io/stemcell/server"
	"github.com/stemcell-io/stemcell/store"
)

// DefaultAnswerMargin is how long past the caller's wait the front waits
// for an invoker's answer before it counts the invoker as lost. An
// invoker answers a blocking invoke by the wait (with 202 if it must), so
// the margin only covers the network and a busy machine.
const DefaultAnswerMargin = 10 * time.Second

// DefaultLookupTimeout bounds each invoker's answer to an activation read:
// one slow invoker must not hold up every GET.
const DefaultLookupTimeout = 2 * time.Second

// Options configure a Front.
type Options struct {
	Config *config.Config
	Server config.ServerConfig
	// ID names the front: the value of server.HopHeader on what it
	// forwards, and the source of its lost-activation records.
	ID string
	// Store holds the front's own records: activations it had to answer
	// for because their invoker was lost.
	Store *store.Store
	// Actions holds the action documents the front serves and places
	// by: etcd in cluster mode (the lead wires cluster.Actions here);
	// nil: Store, which suits a single front and tests.
	Actions server.Actions
	Keys    *server.Keys
	// View lists the invokers: ClusterView(cluster.View) in production.
	View View
	// Route tunes placement; the zero value is route's defaults.
	Route route.Options
	// Transport carries forwarded requests; nil: a pooled keep-alive
	// transport of the front's own.
	Transport http.RoundTripper
	// AnswerMargin (DefaultAnswerMargin when 0) and LookupTimeout
	// (DefaultLookupTimeout when 0): see their defaults.
	AnswerMargin  time.Duration
	LookupTimeout time.Duration
	Log           zerolog.Logger
	// Registry receives the front's and the API's metrics; Gatherer serves
	// /metrics. Both nil: a private registry.
	Registry prometheus.Registerer
	Gatherer prometheus.Gatherer
	Now      func() time.Time // nil: time.Now
	Build    string           // GET /api/v1's build and buildno
	BuildNo  string
}

// Front serves the API of a cluster. Make one with New.
type Front struct {
	opts    Options
	srv     *server.Server
	client  *http.Client
	ownedTr *http.Transport // closed at Shutdown when the front made it
	log     zerolog.Logger
	metrics *metrics

	// mu guards the ledger, which route.Ledger leaves to one owner, and
	// the snapshot the ledger last observed.
	mu       sync.Mutex
	ledger   route.Ledger
	observed *Snapshot

	accepting atomic.Bool
	// forwards counts invokes being forwarded, for a graceful stop.
	forwards gate
	// stop ends the forwards still running when Shutdown gives up on them.
	stop       context.Context
	cancelStop context.CancelFunc
}

// New makes a front. It serves at once (Handler) and says it is ready once
// the view has listed the invokers.
func New(opts Options) (*Front, error) {
	switch {
	case opts.Config == nil:
		return nil, errors.New("front: Options.Config is nil")
	case opts.Store == nil:
		return nil, errors.New("front: Options.Store is nil")
	case opts.Keys == nil:
		return nil, errors.New("front: Options.Keys is nil")
	case opts.View == nil:
		return nil, errors.New("front: Options.View is nil")
	case opts.ID == "":
		return nil, errors.New("front: Options.ID is empty: it names the front in the hop header")
	}
	if err := opts.Route.Validate(); err != nil {
		return nil, fmt.Errorf("front: %w", err)
	}
	if opts.AnswerMargin == 0 {
		opts.AnswerMargin = DefaultAnswerMargin
	}
	if opts.LookupTimeout == 0 {
		opts.LookupTimeout = DefaultLookupTimeout
	}
	if opts.AnswerMargin < 0 || opts.LookupTimeout < 0 {
		return nil, fmt.Errorf("front: AnswerMargin %v, LookupTimeout %v: must be > 0", opts.AnswerMargin, opts.LookupTimeout)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Registry == nil && opts.Gatherer == nil {
		r := prometheus.NewRegistry()
		opts.Registry, opts.Gatherer = r, r
	}
	f := &Front{
		opts: opts, ledger: route.Ledger{},
		log: opts.Log.With().Str("component", "front").Str("front", opts.ID).Logger(),
	}
	tr := opts.Transport
	if tr == nil {
		f.ownedTr = newTransport(opts.Server.IdleTimeout)
		tr = f.ownedTr
	}
	f.client = &http.Client{Transport: tr}
	f.stop, f.cancelStop = context.WithCancel(context.Background())
	m, err := newMetrics(opts.Registry, opts.View)
	if err != nil {
		return nil, err
	}
	f.metrics = m
	srv, err := server.New(server.Options{
		Config: opts.Config, Server: opts.Server, Store: opts.Store, Actions: opts.Actions,
		Invoker: noPool{}, Forwarder: f, Keys: opts.Keys, Log: opts.Log,
		Registry: opts.Registry, Gatherer: opts.Gatherer, Now: opts.Now,
		Build: opts.Build, BuildNo: opts.BuildNo,
	})
	if err != nil {
		return nil, fmt.Errorf("front: %w", err)
	}
	f.srv = srv
	f.srv.SetReady(true)
	f.accepting.Store(true)
	return f, nil
}

// DialTimeout bounds connecting to an invoker.
const DialTimeout = 2 * time.Second

// newTransport keeps connections to the invokers open between invokes:
// a front sends most of an action's invokes to the same few invokers.
// A connection that takes more than DialTimeout counts as refused, so an
// invoker that vanished from the network costs a caller seconds, not its
// whole wait, before the next candidate is tried.
//
// An idle connection is closed by the front at half the invokers' idle
// timeout (server.idle-timeout, which fronts and invokers share), never by
// the invoker first: an invoke written on a connection the invoker closed
// at that moment fails just like one whose invoker died after reading it,
// and the front would have to answer it as lost.
func newTransport(invokerIdle time.Duration) *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = (&net.Dialer{Timeout: DialTimeout, KeepAlive: 30 * time.Second}).DialContext
	tr.MaxIdleConns = 1024
	tr.MaxIdleConnsPerHost = 256
	tr.IdleConnTimeout = 30 * time.Second
	if invokerIdle > 0 {
		tr.IdleConnTimeout = min(tr.IdleConnTimeout, invokerIdle/2)
	}
	return tr
}

// Handler is the front's HTTP handler: the API, /healthz, /metrics, and
// the front's own /readyz. /v1/pool is the invokers' and not served here.
func (f *Front) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", f.srv.Handler())
	mux.HandleFunc("/readyz", f.serveReady)
	mux.HandleFunc("/v1/pool", func(w http.ResponseWriter, r *http.Request) {
		server.WriteError(w, r, http.StatusNotFound, "A front has no pool: ask an invoker's /v1/pool.")
	})
	return mux
}

// Shutdown stops the front gracefully: invokes get 503 from now on, and
// the ones being forwarded may finish until ctx ends; those still running
// then are answered as lost (their invoker may still run them) and
// recorded. It returns ctx's error if it had to give up on some.
func (f *Front) Shutdown(ctx context.Context) error {
	f.accepting.Store(false)
	f.srv.StopAccepting()
	done := f.forwards.close()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
		f.cancelStop()
		<-done // cut off, each forward records its loss and returns
	}
	f.cancelStop()
	if f.ownedTr != nil {
		f.ownedTr.CloseIdleConnections()
	}
	return err
}
