package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// The forwarder is the floor under the daemon's overhead: a process that
// does nothing but relay each request to a container's /run and its answer
// back, as any HTTP front of a container must. The test binary plays it when
// started with forwarderEnv set to the container's address.
const (
	forwarderEnv       = "STEMCELL_E2E_FORWARD_TO"
	forwarderPooledEnv = "STEMCELL_E2E_FORWARD_POOLED"
)

// runForwarder serves until killed; it prints its address on stdout.
func runForwarder(target string) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println(ln.Addr().String())
	t := &http.Transport{Proxy: nil, DisableKeepAlives: os.Getenv(forwarderPooledEnv) == ""}
	client := &http.Client{Transport: t}
	url := "http://" + target + "/run"
	err = http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		resp, err := client.Post(url, "application/json", bytes.NewReader(body))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		out, err := io.ReadAll(resp.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(resp.StatusCode)
		_, _ = w.Write(out)
	}))
	fmt.Fprintln(os.Stderr, err)
	return 1
}

// startForwarder runs this test binary as a forwarder to target and
// returns its address; cleanup kills it.
func startForwarder(tb testing.TB, target string, pooled bool) string {
	tb.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), forwarderEnv+"="+target)
	if pooled {
		cmd.Env = append(cmd.Env, forwarderPooledEnv+"=1")
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		tb.Fatalf("forwarder did not start: %v", err)
	}
	return strings.TrimSpace(line)
}
