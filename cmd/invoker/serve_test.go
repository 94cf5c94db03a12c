package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/stemcell-io/stemcell/config"
)

// waitReady polls logs for the "ready" line until the deadline; it fails
// the test if the daemon returns first.
func waitReady(t *testing.T, logs *lockedBuffer, done <-chan error) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if addr := logs.readyAddr(); addr != "" {
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("no ready line after 20 s; logs:\n%s", logs.buf.String())
		}
		select {
		case err := <-done:
			t.Fatalf("daemon stopped before it was ready: %v; logs:\n%s", err, logs.buf.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// The invoker daemon with the fake factory: it binds, generates the keys
// file and says so, serves, and stops cleanly on the signal.
func TestDaemonServesAndStops(t *testing.T) {
	cfg := config.Default()
	cfg.ContainerFactory.Provider = "fake"
	scfg := config.DefaultServer()
	dir := t.TempDir()
	scfg.Listen, scfg.DataDir, scfg.KeysFile = "127.0.0.1:0", dir, filepath.Join(dir, "keys")
	scfg.ShutdownDeadline = time.Second
	logs := &lockedBuffer{}
	stderr := &lockedBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- daemon(ctx, cfg, scfg, zerolog.New(logs), stderr) }()

	addr := waitReady(t, logs, done)
	resp, err := http.Get("http://" + addr + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/readyz after the ready line: %d, want 200", resp.StatusCode)
	}
	want := "invoker: generated an API key for namespace guest in " + scfg.KeysFile + " (mode 0600)\n"
	if got := stderr.String(); got != want {
		t.Errorf("stderr %q, want %q", got, want)
	}
	if _, err := os.Stat(scfg.KeysFile); err != nil {
		t.Errorf("keys file: %v", err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("daemon stopped with %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("daemon did not stop 30 s after the signal")
	}
	if !strings.Contains(logs.String(), `"message":"stopped"`) {
		t.Errorf("no stopped line; logs:\n%s", logs.String())
	}
	if _, err := net.Dial("tcp", addr); err == nil {
		t.Errorf("%s still accepts connections after the stop", addr)
	}
}

// A taken port is a start failure naming the listen address, with exit 1.
func TestListenAPIRefusesATakenPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	scfg := config.DefaultServer()
	scfg.Listen = ln.Addr().String()
	api, err := listenAPI(scfg)
	if err == nil {
		api.close()
		t.Fatal("listenAPI on a taken port succeeded")
	}
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 1 || !strings.Contains(err.Error(), "start: server.listen "+scfg.Listen) {
		t.Errorf("err %v, want exit 1 naming server.listen %s", err, scfg.Listen)
	}
}

// A step that fails after the bind releases the port and the store, so
// the process can exit (or try again) cleanly.
func TestStartServingUndoesAFailedStart(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	scfg := config.DefaultServer()
	dir := t.TempDir()
	scfg.Listen, scfg.DataDir = addr, dir
	scfg.KeysFile = dir // a directory: unreadable as a keys file
	sv, err := startServing(scfg, zerolog.Nop(), io.Discard, "")
	if err == nil {
		sv.close()
		t.Fatal("startServing with a directory as keys file succeeded")
	}
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 1 || !strings.Contains(err.Error(), "start: server.keys-file") {
		t.Errorf("err %v, want exit 1 naming server.keys-file", err)
	}
	again, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("%s still bound after the failed start: %v", addr, err)
	}
	again.Close()
	// The store is closed too: a second start opens it again.
	scfg.KeysFile = filepath.Join(dir, "keys")
	sv, err = startServing(scfg, zerolog.Nop(), io.Discard, "")
	if err != nil {
		t.Fatalf("a start after the failed one: %v", err)
	}
	sv.close()
}

// The keys file is generated once; the note follows the message.
func TestLoadKeysAnnouncesAGeneratedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys")
	var stderr bytes.Buffer
	if _, err := loadKeys(path, zerolog.Nop(), &stderr, ": the invokers need the same keys file"); err != nil {
		t.Fatal(err)
	}
	want := "invoker: generated an API key for namespace guest in " + path + " (mode 0600): the invokers need the same keys file\n"
	if stderr.String() != want {
		t.Errorf("stderr %q, want %q", stderr.String(), want)
	}
	stderr.Reset()
	if _, err := loadKeys(path, zerolog.Nop(), &stderr, ""); err != nil {
		t.Fatal(err)
	}
	if stderr.Len() != 0 {
		t.Errorf("an existing keys file announced again: %q", stderr.String())
	}
}

// stopped: a failed HTTP server makes exit 1; a closed one is a clean stop.
func TestStoppedExitCodes(t *testing.T) {
	for _, tc := range []struct {
		name     string
		serveErr error
		wantExit int
	}{
		{"signal", nil, 0},
		{"server closed", http.ErrServerClosed, 0},
		{"server failed", errors.New("accept: too many open files"), 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			scfg := config.DefaultServer()
			scfg.DataDir = t.TempDir()
			st, err := openActivationStore(scfg, zerolog.Nop())
			if err != nil {
				t.Fatal(err)
			}
			err = stopped(st, tc.serveErr, zerolog.New(io.Discard))
			var ee *exitError
			switch {
			case tc.wantExit == 0 && err != nil:
				t.Errorf("err %v, want nil", err)
			case tc.wantExit != 0 && (!errors.As(err, &ee) || ee.code != tc.wantExit):
				t.Errorf("err %v, want exit %d", err, tc.wantExit)
			}
			if err := st.close(); err != nil {
				t.Errorf("a second close: %v", err)
			}
		})
	}
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
