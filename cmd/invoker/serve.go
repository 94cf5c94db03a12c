package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/server"
	"github.com/stemcell-io/stemcell/store"
)

// The start-up and stop scaffolding the invoker daemon (daemon) and the
// cluster front (frontDaemon) share: the HTTP API bound and served before
// anything else starts, the activation store and its retention, the keys
// file, and the way the process ends.

// serving is what both start with: the API, bound and answering, the
// activation store and the API keys.
type serving struct {
	api   *apiServer
	store *activationStore
	keys  *server.Keys
}

// startServing binds and serves the API, opens the store and loads the
// keys (keysNote: see loadKeys), in that order; close undoes it on every
// path. A failure names its step and exits 1 (startError).
func startServing(scfg config.ServerConfig, log zerolog.Logger, stderr io.Writer, keysNote string) (*serving, error) {
	sv := &serving{}
	var err error
	if sv.api, err = listenAPI(scfg); err != nil {
		return nil, err
	}
	if sv.store, err = openActivationStore(scfg, log); err == nil {
		sv.keys, err = loadKeys(scfg.KeysFile, log, stderr, keysNote)
	}
	if err != nil {
		sv.close()
		return nil, err
	}
	return sv, nil
}

// close closes the store, then stops the API; after stopped and
// apiServer.shutdown it does nothing more.
func (sv *serving) close() {
	if sv.store != nil {
		_ = sv.store.close()
	}
	if sv.api != nil {
		sv.api.close()
	}
}

// httpShutdownTimeout bounds the wait for open HTTP requests at exit.
const httpShutdownTimeout = 5 * time.Second

// apiServer is the HTTP API, served from the start: while the rest
// starts, probes get /healthz 200 and /readyz 503, API calls 503
// (startingHandler), until use installs the real handler.
type apiServer struct {
	ln      net.Listener
	handler *swapHandler
	http    *http.Server
	served  chan error // the Serve error, once it returns
}

// listenAPI binds scfg.Listen and starts serving. The caller binds first
// so that a taken port fails in milliseconds, not after a slow start.
// close releases the port on every path.
func listenAPI(scfg config.ServerConfig) (*apiServer, error) {
	ln, err := net.Listen("tcp", scfg.Listen)
	if err != nil {
		return nil, startError("server.listen "+scfg.Listen, err)
	}
	s := &apiServer{ln: ln, handler: &swapHandler{}, served: make(chan error, 1)}
	s.handler.set(startingHandler())
	s.http = server.NewHTTPServer(s.handler, scfg)
	go func() { s.served <- s.http.Serve(ln) }()
	return s, nil
}

// addr is the bound address (the port picked when scfg.Listen asked for 0).
func (s *apiServer) addr() net.Addr { return s.ln.Addr() }

// use replaces the starting handler with h.
func (s *apiServer) use(h http.Handler) { s.handler.set(h) }

// waitStop blocks until ctx ends (a signal) or the server fails; it
// returns the server's failure, nil after a signal.
func (s *apiServer) waitStop(ctx context.Context, log zerolog.Logger) error {
	select {
	case <-ctx.Done():
		log.Info().Msg("signal received: stopping")
		return nil
	case err := <-s.served:
		log.Error().Err(err).Msg("HTTP server failed: stopping")
		return err
	}
}

// shutdown stops accepting and waits for the requests being answered,
// within httpShutdownTimeout; it logs those still open after it.
func (s *apiServer) shutdown(log zerolog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), httpShutdownTimeout)
	defer cancel()
	if err := s.http.Shutdown(ctx); err != nil {
		log.Warn().Err(err).Msg("HTTP connections still open at exit")
	}
}

// close stops the server on any path, start failures included; after
// shutdown it does nothing more.
func (s *apiServer) close() {
	ctx, cancel := context.WithTimeout(context.Background(), httpShutdownTimeout)
	defer cancel()
	_ = s.http.Shutdown(ctx)
	_ = s.ln.Close()
}

// activationStore is the store of scfg.DataDir, pruned by the retention
// settings (server.retention-*) every minute while open.
type activationStore struct {
	*store.Store
	log       zerolog.Logger
	stopPrune chan struct{}
	pruneDone chan struct{}
	closeOnce sync.Once
	closeErr  error
}

func openActivationStore(scfg config.ServerConfig, log zerolog.Logger) (*activationStore, error) {
	st, err := store.Open(scfg.DataDir, store.Options{
		RetentionAge: scfg.Retention.MaxAge, RetentionCount: scfg.Retention.MaxCount, Log: log,
	})
	if err != nil {
		return nil, startError("server.data-dir", err)
	}
	s := &activationStore{Store: st, log: log, stopPrune: make(chan struct{}), pruneDone: make(chan struct{})}
	go s.prunePeriodically()
	return s, nil
}

// close stops pruning, then flushes and closes the store. Later calls
// return the first one's result, so a deferred close is safe.
func (s *activationStore) close() error {
	s.closeOnce.Do(func() {
		close(s.stopPrune)
		<-s.pruneDone
		s.closeErr = s.Store.Close()
	})
	return s.closeErr
}

func (s *activationStore) prunePeriodically() {
	defer close(s.pruneDone)
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-s.stopPrune:
			return
		case <-t.C:
			if n, err := s.Prune(); err != nil {
				s.log.Error().Err(err).Msg("retention")
			} else if n > 0 {
				s.log.Info().Int("deleted", n).Msg("retention: old activation records deleted")
			}
		}
	}
}

// loadKeys reads the API keys file, creating it with a guest key when it
// is missing. A created file is logged and announced on stderr, followed
// by note (what the operator must do with it, or "").
func loadKeys(path string, log zerolog.Logger, stderr io.Writer, note string) (*server.Keys, error) {
	keys, created, err := server.LoadOrCreateKeys(path)
	if err != nil {
		return nil, startError("server.keys-file", err)
	}
	if created {
		log.Warn().Str("keys_file", path).Msg("generated an API key for namespace guest")
		fmt.Fprintf(stderr, "invoker: generated an API key for namespace guest in %s (mode 0600)%s\n", path, note)
	}
	return keys, nil
}

// stopped closes the store, last, and says how the process ends: exit 1
// when the store did not close cleanly or the HTTP server had failed
// (serveErr, from waitStop).
func stopped(st *activationStore, serveErr error, log zerolog.Logger) error {
	if err := st.close(); err != nil {
		return &exitError{code: 1, err: fmt.Errorf("stop: store: %w", err)}
	}
	log.Info().Msg("stopped")
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return &exitError{code: 1, err: fmt.Errorf("serve: %w", serveErr)}
	}
	return nil
}
