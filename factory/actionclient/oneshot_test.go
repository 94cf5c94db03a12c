package actionclient

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stemcell-io/stemcell/factory"
)

// connLog serves reply 200 {} and records, in order, every connection the
// server accepted and the connection each request came on.
type connLog struct {
	mu       sync.Mutex
	accepted []net.Conn
	closed   map[string]bool
	requests []string // remote address per request
	newConn  chan struct{}
}

func serveConnLog(t *testing.T) (*httptest.Server, *connLog) {
	t.Helper()
	l := &connLog{newConn: make(chan struct{}, 100), closed: map[string]bool{}}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l.mu.Lock()
		l.requests = append(l.requests, r.RemoteAddr)
		l.mu.Unlock()
		reply(200, `{}`)(w, r)
	}))
	srv.Config.ConnState = func(c net.Conn, s http.ConnState) {
		l.mu.Lock()
		defer l.mu.Unlock()
		switch s {
		case http.StateNew:
			l.accepted = append(l.accepted, c)
			l.newConn <- struct{}{}
		case http.StateClosed:
			l.closed[c.RemoteAddr().String()] = true
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, l
}

// waitAccepted waits until the server accepted n connections in all and
// returns the nth.
func (l *connLog) waitAccepted(t *testing.T, n int) net.Conn {
	t.Helper()
	for {
		l.mu.Lock()
		if len(l.accepted) >= n {
			c := l.accepted[n-1]
			l.mu.Unlock()
			return c
		}
		l.mu.Unlock()
		select {
		case <-l.newConn:
		case <-time.After(5 * time.Second):
			t.Fatalf("the server never accepted connection %d", n)
		}
	}
}

func (l *connLog) request(i int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.requests[i]
}

func mustRun(t *testing.T, c *Client) {
	t.Helper()
	if _, err := c.Run(context.Background(), factory.RunRequest{Timeout: 5 * time.Second}); err != nil {
		t.Fatal(err)
	}
}

// eventually polls cond, for conditions another party settles (a FIN on
// its way through the kernel).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestSpareConnectionCarriesTheNextRequest(t *testing.T) {
	srv, l := serveConnLog(t)
	c := client(t, srv, Options{})
	mustRun(t, c)
	spare := l.waitAccepted(t, 2) // opened ahead, before the second request
	waitSpare(t, c)
	mustRun(t, c)
	if got, want := l.request(1), spare.RemoteAddr().String(); got != want {
		t.Fatalf("second request came on %s, want the spare %s", got, want)
	}
	if got := l.request(0); got == l.request(1) {
		t.Fatalf("both requests came on connection %s", got)
	}
}

func TestSpareClosedByTheRuntimeIsNotUsed(t *testing.T) {
	srv, l := serveConnLog(t)
	c := client(t, srv, Options{})
	mustRun(t, c)
	spare := l.waitAccepted(t, 2)
	_ = spare.Close() // as a runtime does with a connection that sent nothing for long
	eventually(t, "the client sees its spare closed", func() bool {
		c.oneShot.mu.Lock()
		defer c.oneShot.mu.Unlock()
		return c.oneShot.spare != nil && !connAlive(c.oneShot.spare)
	})
	mustRun(t, c)
	if got := l.request(1); got == spare.RemoteAddr().String() {
		t.Fatalf("the request went to the closed spare %s", got)
	}
}

func TestStaleSpareIsNotUsed(t *testing.T) {
	srv, l := serveConnLog(t)
	c := client(t, srv, Options{})
	mustRun(t, c)
	spare := l.waitAccepted(t, 2)
	eventually(t, "the spare is ready", func() bool {
		c.oneShot.mu.Lock()
		defer c.oneShot.mu.Unlock()
		if c.oneShot.spare == nil {
			return false
		}
		c.oneShot.spareAt = time.Now().Add(-2 * spareMaxAge)
		return true
	})
	mustRun(t, c)
	if got := l.request(1); got == spare.RemoteAddr().String() {
		t.Fatalf("the request went to a spare older than %v", spareMaxAge)
	}
}

func TestCloseDropsTheSpare(t *testing.T) {
	srv, l := serveConnLog(t)
	c := client(t, srv, Options{})
	mustRun(t, c)
	spare := l.waitAccepted(t, 2)
	c.Close()
	eventually(t, "the server sees the spare closed", func() bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		return l.closed[spare.RemoteAddr().String()]
	})
	mustRun(t, c) // still usable after Close
}

func TestConnAlive(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			accepted <- c
		}
		close(accepted)
	}()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	peer := <-accepted
	if peer == nil {
		t.Fatal("accept failed")
	}
	if !connAlive(conn) {
		t.Fatal("an open idle connection is not alive")
	}
	if _, err := peer.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "unasked data makes the connection unusable", func() bool { return !connAlive(conn) })
	buf := make([]byte, 1)
	if _, err := conn.Read(buf); err != nil || buf[0] != 'x' {
		t.Fatalf("the peek consumed the data: %q, %v", buf, err)
	}
	_ = peer.Close()
	eventually(t, "a connection closed by the peer is not alive", func() bool { return !connAlive(conn) })
}

// waitSpare waits until the client holds its spare connection.
func waitSpare(t *testing.T, c *Client) {
	t.Helper()
	eventually(t, "the spare is ready", func() bool {
		c.oneShot.mu.Lock()
		defer c.oneShot.mu.Unlock()
		return c.oneShot.spare != nil
	})
}
