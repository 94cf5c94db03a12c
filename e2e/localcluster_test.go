package e2e

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// localCluster is `invoker local-cluster` run by a test: an etcd in that
// process, invokers and fronts as its children, all on loopback.
type localCluster struct {
	t    testing.TB
	dir  string
	cmd  *exec.Cmd
	done chan struct{}
	out  bytes.Buffer
	info struct {
		Name     string `json:"name"`
		Etcd     string `json:"etcd"`
		KeysFile string `json:"keysFile"`
		Fronts   []proc `json:"fronts"`
		Invokers []proc `json:"invokers"`
	}
}

type proc struct {
	Name string `json:"name"`
	URL  string `json:"url"`
	PID  int    `json:"pid"`
	Log  string `json:"log"`
}

// startLocalCluster runs local-cluster with args and waits for its
// cluster.json. The keys file holds guestAuth. At the end of the test it
// is stopped by pid (SIGTERM; it stops its children), then killed if it
// is still there after 30 s.
func startLocalCluster(t testing.TB, args ...string) *localCluster {
	t.Helper()
	c := &localCluster{t: t, dir: t.TempDir(), done: make(chan struct{})}
	if err := os.WriteFile(filepath.Join(c.dir, "keys"), []byte(guestAuth+" guest\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c.cmd = exec.Command(binary, append([]string{"local-cluster", "--dir", c.dir, "--listen", "127.0.0.1:0"}, args...)...)
	c.cmd.Stdout, c.cmd.Stderr = &c.out, &c.out
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = c.cmd.Wait(); close(c.done) }()
	t.Cleanup(c.stop)
	deadline := time.After(2 * time.Minute)
	for {
		if b, err := os.ReadFile(filepath.Join(c.dir, "cluster.json")); err == nil && json.Unmarshal(b, &c.info) == nil {
			return c
		}
		select {
		case <-c.done:
			t.Fatalf("local-cluster exited before it was ready:\n%s", c.out.String())
		case <-deadline:
			t.Fatalf("local-cluster not ready after 2 min:\n%s", c.out.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (c *localCluster) stop() {
	select {
	case <-c.done:
		return
	default:
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(30 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.done
		c.t.Errorf("local-cluster still running 30 s after SIGTERM; killed it. Its output:\n%s", c.out.String())
	}
}

// clusterClient sends API requests as a load generator would: pooled
// keep-alive connections, a timeout per request.
var clusterClient = &http.Client{
	Timeout:   30 * time.Second,
	Transport: &http.Transport{MaxIdleConnsPerHost: 64},
}

// call sends a request with guest's key to base (a front or an invoker).
func call(base, method, path string, body any) (reply, error) {
	return send(clusterClient, base, method, path, guestAuth, body)
}
