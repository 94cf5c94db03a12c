package cluster

import (
	"bufio"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestInvokerKilledLeavesView starts an invoker in another process (this
// test binary, re-executed), kills it with SIGKILL, and times how long the
// view keeps it: at most TTL + 1 s.
func TestInvokerKilledLeavesView(t *testing.T) {
	srv := startEtcd(t)
	v := startView(t, srv.endpoint, "c1")
	const ttl = 2 * time.Second

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(),
		childEndpointEnv+"="+srv.endpoint, childClusterEnv+"=c1", childIDEnv+"=victim", childTTLEnv+"="+ttl.String())
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { // if the test fails before the kill
		cmd.Process.Kill()
		cmd.Wait()
	})
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var incarnation int64
	select {
	case line, ok := <-lines:
		f := strings.Fields(line)
		if !ok || len(f) != 2 || f[0] != "registered" {
			t.Fatalf("child said %q, want \"registered <incarnation>\"", line)
		}
		incarnation, _ = strconv.ParseInt(f[1], 10, 64)
	case <-time.After(20 * time.Second):
		t.Fatal("child did not register within 20 s")
	}
	waitSet(t, v, 5*time.Second, "child in the view", func(s *Set) bool {
		e, ok := s.Get("victim")
		return ok && e.Incarnation == incarnation
	})

	killed := time.Now()
	if err := syscall.Kill(cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill %d: %v", cmd.Process.Pid, err)
	}
	waitSet(t, v, ttl+time.Second, "killed invoker gone from the view", func(s *Set) bool {
		_, ok := s.Get("victim")
		return !ok
	})
	t.Logf("killed invoker left the view %v after SIGKILL (TTL %v)", time.Since(killed), ttl)
	cmd.Wait()
}
