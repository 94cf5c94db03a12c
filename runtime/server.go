// Package runtime is the action runtime that runs inside Stemcell's action
// containers. It serves the runtime side of OpenWhisk's container protocol:
// POST /init once with the action's code, then POST /run per activation,
// with the activation's output on stdout and stderr ended by Sentinel.
//
// Two kinds of action run here: JavaScript, interpreted by goja, and native
// executables speaking OpenWhisk's actionloop protocol. The package imports
// nothing else of Stemcell: it is built into the invoker binary, which
// doubles as the runtime inside a FROM scratch image (see Dockerfile).
package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"
)

// DefaultMaxBodyBytes bounds /init and /run request bodies. OpenWhisk caps
// action code at 48 MB before base64; this leaves room for the encoding.
const DefaultMaxBodyBytes = 96 << 20

// Options configure a Server. The zero value serves one activation at a
// time and writes action output to the process's stdout and stderr.
type Options struct {
	// Stdout and Stderr receive the actions' output and the sentinels.
	Stdout, Stderr io.Writer
	// Concurrent allows overlapping /run calls (the container's
	// __OW_ALLOW_CONCURRENT=true). JavaScript then runs each call in its own
	// interpreter; native actions still run one activation at a time.
	Concurrent bool
	// Environ is the environment actions start from (process.env for
	// JavaScript, the child's environment for native actions), as
	// "KEY=value" entries. Nil means os.Environ().
	Environ []string
	// TempDir is where native executables are unpacked; "" means
	// os.TempDir(), created if missing (a scratch image has no /tmp).
	TempDir string
	// MaxBodyBytes bounds request bodies; 0 means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// Memory, when set, watches /init and /run for memory exhaustion (see
	// Memory and OpenMemory); nil watches nothing.
	Memory *Memory
}

// initState tracks the one /init a runtime accepts.
type initState int

const (
	stateEmpty        initState = iota // no action yet; /init accepted
	stateInitializing                  // an /init is in progress
	stateReady                         // the action is loaded; /run accepted
)

// executor runs one kind of action. run executes one activation, returns its
// result (a JSON object or array) and ends the activation's output with the
// sentinels on both streams, whatever the outcome.
type executor interface {
	run(ctx context.Context, act *activation) ([]byte, error)
	close() error
}

// Server is an http.Handler serving /init and /run.
type Server struct {
	opts   Options
	stdout *lineWriter
	stderr *lineWriter

	mu    sync.Mutex // guards state and exec
	state initState
	exec  executor

	runMu sync.Mutex // serialises /run unless opts.Concurrent

	mem *memWatch // nil without Options.Memory

	// jsGlobals are extra globals for JavaScript interpreters; tests use
	// them to observe interpreters from Go.
	jsGlobals map[string]any
}

// NewServer returns a runtime with no action loaded.
func NewServer(opts Options) *Server {
	if opts.Stdout == nil {
		opts.Stdout = os.Stdout
	}
	if opts.Stderr == nil {
		opts.Stderr = os.Stderr
	}
	if opts.Environ == nil {
		opts.Environ = os.Environ()
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	s := &Server{
		opts:   opts,
		stdout: newLineWriter(opts.Stdout),
		stderr: newLineWriter(opts.Stderr),
	}
	s.mem = newMemWatch(opts.Memory, func(reason string) {
		// In the action's log, next to what it wrote last: the user sees
		// why it was aborted.
		s.stderr.writeLine("The runtime aborted the action: it exhausted its memory: " + reason + ".")
	})
	return s
}

// ServeHTTP routes POST /init and POST /run.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var handle func(http.ResponseWriter, *http.Request)
	switch r.URL.Path {
	case "/init":
		handle = s.handleInit
	case "/run":
		handle = s.handleRun
	default:
		writeError(w, http.StatusNotFound, fmt.Errorf("path %q: not found: the runtime serves POST /init and POST /run", r.URL.Path))
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeError(w, http.StatusMethodNotAllowed, fmt.Errorf("%s %s: method not allowed: use POST", r.Method, r.URL.Path))
		return
	}
	handle(w, r)
}

// Serve answers requests on ln until ctx is done, then shuts the HTTP
// server down and stops the action (a native child is killed).
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{Handler: s, ReadHeaderTimeout: 30 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	var err error
	select {
	case err = <-errc:
	case <-ctx.Done():
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = hs.Shutdown(shutdownCtx)
		cancel()
		<-errc
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return errors.Join(err, s.Close())
}

// Close stops the loaded action, if any. The runtime accepts no /run after.
func (s *Server) Close() error {
	s.mu.Lock()
	exec := s.exec
	s.exec = nil
	s.mu.Unlock()
	var err error
	if exec != nil {
		err = exec.close()
	}
	// Activations still running end with the action; the sampler with them.
	s.mem.close()
	return err
}

// statusError carries the HTTP status a handler answers an error with.
type statusError struct {
	status int
	err    error
}

func (e *statusError) Error() string { return e.err.Error() }
func (e *statusError) Unwrap() error { return e.err }

// withStatus tags err with the HTTP status it is answered with.
func withStatus(status int, err error) error { return &statusError{status: status, err: err} }

// actionError is a failure of the action's own code (a syntax error, an
// exception, a bad result): answered with 502, which the invoker reports as
// a developer error carrying the message.
func actionError(format string, args ...any) error {
	return withStatus(http.StatusBadGateway, fmt.Errorf(format, args...))
}

// statusOf returns the HTTP status for err; untagged errors are the action's.
func statusOf(err error) int {
	var se *statusError
	if errors.As(err, &se) {
		return se.status
	}
	return http.StatusBadGateway
}

// writeError answers {"error": err}.
func writeError(w http.ResponseWriter, status int, err error) {
	body, _ := json.Marshal(map[string]string{"error": err.Error()})
	writeBody(w, status, body)
}

// writeMemoryExhausted answers an operation aborted for memory: 502 with
// OpenWhisk's message, marked by MemoryExhaustedHeader.
func writeMemoryExhausted(w http.ResponseWriter) {
	w.Header().Set(MemoryExhaustedHeader, "true")
	writeError(w, http.StatusBadGateway, errMemoryExhausted)
}

// writeBody answers a JSON body with an explicit Content-Length: the invoker
// treats a chunked response as no response at all.
func writeBody(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// readBody reads a request body up to the configured bound.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, withStatus(http.StatusRequestEntityTooLarge,
			fmt.Errorf("%s: request body exceeds the limit of %d bytes", r.URL.Path, tooLarge.Limit))
	}
	if err != nil {
		return nil, withStatus(http.StatusBadRequest, fmt.Errorf("%s: reading the request body: %w", r.URL.Path, err))
	}
	return body, nil
}
