package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestRuntimeCommandServes runs `invoker runtime --listen` in-process and
// drives one JavaScript action through /init and /run over TCP, then stops
// it through its context as SIGTERM would.
func TestRuntimeCommandServes(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // the command binds the address itself

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := runtimeCmd()
	cmd.SetArgs([]string{"--listen", addr})
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()

	// The invoker also waits for the runtime by connecting until it answers.
	deadline := time.Now().Add(10 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			conn.Close()
			break
		}
		select {
		case err := <-done:
			t.Fatalf("runtime exited before serving: %v", err)
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("runtime not accepting on %s after 10s: %v", addr, err)
		}
	}

	post := func(path, body string) (int, string) {
		t.Helper()
		resp, err := http.Post("http://"+addr+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatalf("POST %s: %v", path, err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("POST %s: reading the body: %v", path, err)
		}
		if resp.ContentLength != int64(len(b)) {
			t.Errorf("POST %s: Content-Length %d for a %d-byte body", path, resp.ContentLength, len(b))
		}
		return resp.StatusCode, string(b)
	}
	if code, body := post("/init", `{"value": {"name": "hello", "main": "main", "code": "function main(p) { return {hello: p.name} }"}}`); code != http.StatusOK {
		t.Fatalf("/init: %d %s", code, body)
	}
	if code, body := post("/run", `{"value": {"name": "stemcell"}, "activation_id": "a1"}`); code != http.StatusOK || body != `{"hello":"stemcell"}` {
		t.Fatalf("/run: %d %s", code, body)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("runtime exit: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("runtime did not stop within 10s of its context ending")
	}
}
