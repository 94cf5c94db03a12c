package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stemcell-io/stemcell/factory"
	"github.com/stemcell-io/stemcell/factory/actionclient"
)

// The forwarder is the floor under the daemon's overhead: a process that
// does nothing but relay each /run body to a container, through the same
// container client as the daemon, and the answer back. Whatever the daemon
// costs beyond it is its own work (auth, admission, pool, actors, logs,
// record). The test binary plays it when started with forwarderEnv set to
// the container's address.
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
	client := actionclient.New(target, actionclient.Options{Pooled: os.Getenv(forwarderPooledEnv) != ""})
	err = http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Value json.RawMessage `json:"value"`
		}
		data, err := io.ReadAll(r.Body)
		if err == nil {
			err = json.Unmarshal(data, &body)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		out, err := client.Run(r.Context(), factory.RunRequest{
			Params: body.Value, Namespace: "guest", ActionName: "/guest/forward", ActionVersion: "0.0.1",
			ActivationID: "00000000000000000000000000000000", TransactionID: "forward",
			Deadline: time.Now().Add(time.Minute), Timeout: time.Minute,
		})
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(out.Result)
	}))
	fmt.Fprintln(os.Stderr, err)
	return 1
}

// startForwarder runs this test binary as a forwarder to target and
// returns its address and process id; cleanup kills it.
func startForwarder(tb testing.TB, target string, pooled bool) (addr string, pid int) {
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
	return strings.TrimSpace(line), cmd.Process.Pid
}
