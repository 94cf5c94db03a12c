package actionclient

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// Bounds on the connection opened ahead for the next request.
const (
	// spareMaxAge drops a spare the runtime may have given up on: runtimes
	// time out connections that send no request (Node.js after 60 s).
	spareMaxAge = 10 * time.Second
	// spareDialTimeout bounds the background dial.
	spareDialTimeout = 5 * time.Second
)

// oneShot sends each request on a connection of its own and closes it
// after the answer (container-pool.akka-client false): no connection ever
// carries two requests. Two things keep that from costing what
// http.Transport with keep-alives off costs:
//   - the exchange runs on the calling goroutine, where the transport
//     spreads it over dialer, reader and writer goroutines;
//   - once an answer is read, its connection is closed and the next
//     request's connection opened in the background (the spare), so the
//     close, the TCP handshake and the runtime's accept happen between
//     requests, not on a request's path. Opened as soon as the request was
//     sent, the spare landed while the runtime worked on that request and
//     slowed it down (0.24 ms more at p50 on the 2-CPU test host; bench:
//     e2e BenchmarkWarmInvoke).
type oneShot struct {
	addr   string
	dialer net.Dialer

	mu        sync.Mutex
	spare     net.Conn
	spareAt   time.Time
	preparing bool
	stopDial  context.CancelFunc // cancels the background dial on close
	dials     sync.WaitGroup
}

func newOneShot(addr string) *oneShot { return &oneShot{addr: addr} }

// do sends req and returns the answer with its body still to read; closing
// the body closes the connection.
func (o *oneShot) do(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	conn := o.takeSpare()
	if conn == nil {
		var err error
		if conn, err = o.dialer.DialContext(ctx, "tcp", o.addr); err != nil {
			return nil, err
		}
	}
	if d, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(d)
	}
	// A cancelled job (abort, shutdown) must not wait for the runtime:
	// an expired deadline wakes any read or write at once.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	release := func() {
		stop()
		_ = conn.Close()
	}
	req.Close = true // Connection: close, so the runtime need not keep it either
	w := bufio.NewWriter(conn)
	if err := req.Write(w); err != nil {
		release()
		return nil, err
	}
	if err := w.Flush(); err != nil {
		release()
		return nil, err
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), req)
	if err != nil {
		release()
		return nil, err
	}
	resp.Body = &closingBody{ReadCloser: resp.Body, release: func() {
		stop()
		o.retire(conn)
	}}
	return resp, nil
}

// takeSpare returns the spare connection if it is fresh and the runtime
// has not closed it, or nil.
func (o *oneShot) takeSpare() net.Conn {
	o.mu.Lock()
	conn, at := o.spare, o.spareAt
	o.spare = nil
	o.mu.Unlock()
	if conn == nil {
		return nil
	}
	if time.Since(at) > spareMaxAge || !connAlive(conn) {
		_ = conn.Close()
		return nil
	}
	return conn
}

// retire closes a connection whose exchange is over and opens the next
// request's connection, unless one is ready or being opened, both in the
// background: the close (its FIN crosses the runtime's TCP stack) stays
// off the path of the answer as the dial does. A failed dial leaves no
// spare: the next request dials itself and sees the error.
func (o *oneShot) retire(used net.Conn) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.preparing || o.spare != nil {
		o.dials.Add(1)
		go func() {
			defer o.dials.Done()
			_ = used.Close()
		}()
		return
	}
	o.preparing = true
	ctx, cancel := context.WithTimeout(context.Background(), spareDialTimeout)
	o.stopDial = cancel
	o.dials.Add(1)
	go func() {
		defer o.dials.Done()
		defer cancel()
		_ = used.Close()
		conn, err := o.dialer.DialContext(ctx, "tcp", o.addr)
		o.mu.Lock()
		defer o.mu.Unlock()
		o.preparing = false
		if err == nil {
			o.spare, o.spareAt = conn, time.Now()
		}
	}()
}

// close drops the spare, waiting for the closes and the dial in progress:
// the runtime is about to be paused or removed. Requests in flight are not
// interrupted, and later requests work as before.
func (o *oneShot) close() {
	o.mu.Lock()
	if o.stopDial != nil {
		o.stopDial()
	}
	o.mu.Unlock()
	o.dials.Wait()
	o.mu.Lock()
	if o.spare != nil {
		_ = o.spare.Close()
		o.spare = nil
	}
	o.mu.Unlock()
}

// closingBody releases the connection when the body is closed.
type closingBody struct {
	io.ReadCloser
	release func()
}

func (b *closingBody) Close() error {
	err := b.ReadCloser.Close()
	b.release()
	return err
}
