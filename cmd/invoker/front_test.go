package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/internal/etcdtest"
)

func TestFrontNeedsEndpoints(t *testing.T) {
	cmd := &cobra.Command{Use: "front", RunE: runFront, SilenceErrors: true, SilenceUsage: true}
	addRunFlags(cmd.Flags())
	var stderr bytes.Buffer
	cmd.SetErr(&stderr)
	cmd.SetArgs([]string{"--data-dir", t.TempDir()})
	err := cmd.Execute()
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 2 {
		t.Fatalf("front without cluster.endpoints: err %v, want exit 2", err)
	}
	if !strings.Contains(stderr.String(), "cluster.endpoints") || !strings.Contains(stderr.String(), "invoker front needs etcd") {
		t.Errorf("stderr %q does not say that cluster.endpoints is missing", stderr.String())
	}
}

// lockedBuffer collects log lines written from several goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// readyAddr returns the addr of the "ready" log line, if written.
func (b *lockedBuffer) readyAddr() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	sc := bufio.NewScanner(bytes.NewReader(b.buf.Bytes()))
	for sc.Scan() {
		var line struct{ Message, Addr string }
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Message == "ready" {
			return line.Addr
		}
	}
	return ""
}

func TestFrontDaemonServesAndStops(t *testing.T) {
	etcd := etcdtest.Start(t)
	cfg := config.Default()
	cfg.Cluster.Endpoints = []string{etcd.Endpoint}
	scfg := config.DefaultServer()
	dir := t.TempDir()
	scfg.Listen, scfg.DataDir, scfg.KeysFile = "127.0.0.1:0", dir, filepath.Join(dir, "keys")
	scfg.ShutdownDeadline = time.Second
	logs := &lockedBuffer{}
	log := zerolog.New(logs)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- frontDaemon(ctx, cfg, scfg, log, io.Discard) }()

	var addr string
	deadline := time.Now().Add(10 * time.Second)
	for addr == "" {
		if time.Now().After(deadline) {
			t.Fatalf("no ready line after 10 s; logs:\n%s", logs.buf.String())
		}
		select {
		case err := <-done:
			t.Fatalf("front stopped before it was ready: %v", err)
		case <-time.After(10 * time.Millisecond):
		}
		addr = logs.readyAddr()
	}
	var body map[string]any
	for {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		body = map[string]any{}
		_ = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz %d %v after 10 s", resp.StatusCode, body)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(body["detail"].(string), "no invoker") {
		t.Errorf("/readyz of a front of an empty cluster: %v", body)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("front stopped with %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("front did not stop 15 s after the signal")
	}
}
