package enginetest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/client"
)

// engine is the one client of the process, made and pinged on first use.
var engine struct {
	once sync.Once
	mu   sync.Mutex
	cli  *client.Client
	err  error
}

// pingTimeout bounds the first answer of an engine that is there at all.
const pingTimeout = 10 * time.Second

// Engine returns the process's engine client, or why there is none. The
// API version is negotiated: the client's default is newer than what a
// 20.10 engine (API 1.41) accepts.
func Engine() (*client.Client, error) {
	engine.once.Do(func() {
		cli, err := connect()
		engine.mu.Lock()
		engine.cli, engine.err = cli, err
		engine.mu.Unlock()
	})
	engine.mu.Lock()
	defer engine.mu.Unlock()
	return engine.cli, engine.err
}

func connect() (*client.Client, error) {
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		return nil, fmt.Errorf("cannot make an engine client: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), pingTimeout)
	defer cancel()
	if _, err := cli.Ping(ctx); err != nil {
		_ = cli.Close()
		return nil, fmt.Errorf("the engine does not answer: %w", err)
	}
	return cli, nil
}

// Require returns the process's engine client. Without an engine it skips
// tb, loudly, or fails it when CI=true: CI must not pass by skipping.
func Require(tb testing.TB) *client.Client {
	tb.Helper()
	if err := checkMain(); err != nil {
		tb.Fatalf("enginetest.Require: %v", err)
	}
	cli, err := Engine()
	if err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("%s needs a Docker Engine (CI=true): %v", tb.Name(), err)
		}
		fmt.Fprintf(os.Stderr, "\n*** %s: SKIPPING, no Docker Engine: %v ***\n", tb.Name(), err)
		tb.Skipf("no Docker Engine: %v", err)
	}
	return cli
}

// closeEngine closes the client for good: later calls of Engine get nil
// and the error "closed".
func closeEngine() {
	engine.once.Do(func() {})
	engine.mu.Lock()
	defer engine.mu.Unlock()
	if engine.cli != nil {
		_ = engine.cli.Close()
	}
	if engine.cli != nil || engine.err == nil {
		engine.cli = nil
		engine.err = errors.New("the engine client is closed: the tests are over")
	}
}
