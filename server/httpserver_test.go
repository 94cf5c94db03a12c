package server

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stemcell-io/stemcell/actors"
	"github.com/stemcell-io/stemcell/config"
)

// serveDaemon serves h through NewHTTPServer, as cmd/invoker does.
func serveDaemon(t *testing.T, h http.Handler, c config.ServerConfig) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := NewHTTPServer(h, c)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	})
	return ln.Addr().String()
}

// An idle keep-alive connection is closed once idle-timeout has passed,
// not before.
func TestIdleConnectionClosed(t *testing.T) {
	c := config.DefaultServer()
	c.IdleTimeout = 300 * time.Millisecond
	addr := serveDaemon(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok")
	}), c)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.Close {
		t.Fatal("the server did not keep the connection alive")
	}
	idleSince := time.Now()
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second)) // bounds the test
	_, err = br.ReadByte()
	idle := time.Since(idleSince)
	if !errors.Is(err, io.EOF) {
		t.Fatalf("read on the idle connection: %v, want EOF (closed by the server)", err)
	}
	if idle < c.IdleTimeout-50*time.Millisecond {
		t.Errorf("closed after %v idle, before the idle timeout %v", idle, c.IdleTimeout)
	}
}

// read-timeout bounds receiving a request, not answering it: a blocking
// invoke whose result takes longer is still answered.
func TestBlockingInvokeOutlastsReadTimeout(t *testing.T) {
	const readTimeout = 200 * time.Millisecond
	h := newHarness(t)
	h.createHello()
	h.inv.run = func(ctx context.Context, a actors.Activation) (actors.Result, error) {
		select {
		case <-time.After(4 * readTimeout): // the run must outlast the read timeout
			return succeed(a), nil
		case <-ctx.Done():
			return actors.Result{}, ctx.Err()
		}
	}
	c := config.DefaultServer()
	c.ReadTimeout = readTimeout
	addr := serveDaemon(t, h.srv.Handler(), c)
	req, _ := http.NewRequest("POST", "http://"+addr+"/api/v1/namespaces/_/actions/hello?blocking=true&result=true", strings.NewReader(`{"name":"Ada"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(guestAuth)))
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.Contains(string(body), "Ada") {
		t.Fatalf("blocking invoke after %v: %d %s", time.Since(start), resp.StatusCode, body)
	}
}

// A request whose body does not arrive within read-timeout is cut off.
func TestSlowBodyCutOff(t *testing.T) {
	c := config.DefaultServer()
	c.ReadTimeout = 200 * time.Millisecond
	readErr := make(chan error, 1)
	addr := serveDaemon(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := io.ReadAll(r.Body)
		readErr <- err
	}), c)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Ten bytes announced, one sent.
	if _, err := io.WriteString(conn, "PUT /x HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n{"); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-readErr:
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Errorf("body read ended with %v, want a timeout", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the body read was not cut off")
	}
}

// write-timeout counts from a response's first byte: an answer that takes
// longer than it to compute is still sent, and a client that stops reading
// a large response does not hold its handler beyond it.
func TestWriteTimeoutFromFirstByte(t *testing.T) {
	c := config.DefaultServer()
	c.WriteTimeout = 200 * time.Millisecond
	writeErr := make(chan error, 1)
	addr := serveDaemon(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow-answer" {
			<-time.After(3 * c.WriteTimeout) // computing the answer outlasts the write timeout
			_, _ = io.WriteString(w, "answer")
			return
		}
		chunk := make([]byte, 1<<20)
		for range 256 { // far more than the socket buffers hold
			if _, err := w.Write(chunk); err != nil {
				writeErr <- err
				return
			}
		}
		writeErr <- nil
	}), c)

	resp, err := http.Get("http://" + addr + "/slow-answer")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "answer" {
		t.Errorf("slow answer: %d %q", resp.StatusCode, body)
	}

	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET /large HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	select { // the client reads nothing
	case err := <-writeErr:
		if err == nil {
			t.Error("256 MB were written to a client that reads nothing")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the handler is still writing to a client that reads nothing")
	}
}
