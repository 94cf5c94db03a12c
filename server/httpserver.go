package server

import (
	"net/http"
	"time"

	"github.com/stemcell-io/stemcell/config"
)

// NewHTTPServer is the daemon's http.Server for h, with the timeouts of c:
//   - read-header-timeout and read-timeout bound how long a client may take
//     to send its request. net/http lifts the read deadline once the body
//     has been read, so a blocking invoke may still wait up to
//     blocking-wait.
//   - write-timeout bounds sending one response, counted from its first
//     byte rather than from the request (net/http's WriteTimeout), so that
//     it need not leave room for a blocking invoke's wait.
//   - idle-timeout closes keep-alive connections nobody uses.
func NewHTTPServer(h http.Handler, c config.ServerConfig) *http.Server {
	return &http.Server{
		Handler:           withDeadlines(h, c.WriteTimeout),
		ReadHeaderTimeout: c.ReadHeaderTimeout,
		ReadTimeout:       c.ReadTimeout,
		IdleTimeout:       c.IdleTimeout,
	}
}

func withDeadlines(h http.Handler, write time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		// A keep-alive connection still has the previous response's write
		// deadline, which may have passed while it was idle.
		_ = rc.SetWriteDeadline(time.Time{})
		h.ServeHTTP(&deadlineWriter{ResponseWriter: w, rc: rc, timeout: write}, r)
	})
}

// deadlineWriter sets the write deadline when the response starts.
type deadlineWriter struct {
	http.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration
	started bool
}

func (d *deadlineWriter) start() {
	if !d.started {
		d.started = true
		_ = d.rc.SetWriteDeadline(time.Now().Add(d.timeout))
	}
}

func (d *deadlineWriter) WriteHeader(status int) {
	d.start()
	d.ResponseWriter.WriteHeader(status)
}

func (d *deadlineWriter) Write(p []byte) (int, error) {
	d.start()
	return d.ResponseWriter.Write(p)
}

func (d *deadlineWriter) Flush() {
	d.start()
	_ = d.rc.Flush()
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (d *deadlineWriter) Unwrap() http.ResponseWriter { return d.ResponseWriter }
