package runtime

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// nativeAction runs an executable speaking OpenWhisk's actionloop protocol:
// it is started once, reads one JSON line per activation on stdin
// ({"value": params, "activation_id": ..., ...}) and answers one JSON line
// on file descriptor 3. Its stdout and stderr are the activation's logs.
// One activation runs at a time.
type nativeAction struct {
	dir     string
	cmd     *exec.Cmd
	stdin   *os.File
	results chan []byte // lines read from fd 3; closed when fd 3 closes
	exited  chan struct{}
	exitErr error // set before exited is closed
	stdout  *forwarder
	stderr  *forwarder

	mu     sync.Mutex // one activation at a time
	broken error      // set when the protocol's line pairing is lost
}

// startNative unpacks the executable and starts it.
func startNative(code *actionCode, env map[string]string, tempDir string, stdout, stderr *lineWriter) (_ *nativeAction, err error) {
	if tempDir == "" {
		tempDir = os.TempDir()
	}
	// A FROM scratch image has no /tmp.
	if err := os.MkdirAll(tempDir, 0o1777); err != nil {
		return nil, withStatus(http.StatusInternalServerError, fmt.Errorf("/init: creating the temporary directory %q: %w", tempDir, err))
	}
	dir, err := os.MkdirTemp(tempDir, "action-")
	if err != nil {
		return nil, withStatus(http.StatusInternalServerError, fmt.Errorf("/init: creating a directory for the action in %q: %w", tempDir, err))
	}
	defer func() {
		if err != nil {
			_ = os.RemoveAll(dir)
		}
	}()
	path := filepath.Join(dir, "exec")
	if code.isZip {
		err = unzip(code.native, dir)
	} else {
		err = os.WriteFile(path, code.native, 0o755)
	}
	if err != nil {
		return nil, actionError("/init: unpacking the native action: %w", err)
	}
	if err := os.Chmod(path, 0o755); err != nil {
		return nil, actionError("/init: making %q executable: %w", path, err)
	}
	return launch(code.name, path, dir, envList(env), stdout, stderr)
}

// launch starts the child with pipes for stdin, stdout, stderr and fd 3.
// The parent keeps the write ends of the stdout and stderr pipes: writing a
// marker into them after the child's result line is how the forwarders
// learn that all output before the result has passed (see forwarder).
func launch(name, path, dir string, env []string, stdout, stderr *lineWriter) (*nativeAction, error) {
	marker, err := newMarker()
	if err != nil {
		return nil, withStatus(http.StatusInternalServerError, err)
	}
	// stdin, fd 3, stdout, stderr: read ends at even, write ends at odd
	// indexes.
	var ends [8]*os.File
	closeAll := func() {
		for _, f := range ends {
			if f != nil {
				_ = f.Close()
			}
		}
	}
	for i := 0; i < len(ends); i += 2 {
		r, w, err := os.Pipe()
		if err != nil {
			closeAll()
			return nil, withStatus(http.StatusInternalServerError, fmt.Errorf("/init: creating pipes for %q: %w", path, err))
		}
		ends[i], ends[i+1] = r, w
	}
	stdinR, stdinW, resR, resW := ends[0], ends[1], ends[2], ends[3]
	outR, outW, errR, errW := ends[4], ends[5], ends[6], ends[7]
	n := &nativeAction{dir: dir, stdin: stdinW, exited: make(chan struct{}), results: make(chan []byte, 1)}
	newCmd := func() *exec.Cmd {
		cmd := exec.Command(path)
		cmd.Dir = dir
		cmd.Env = env
		cmd.Stdin, cmd.Stdout, cmd.Stderr = stdinR, outW, errW
		cmd.ExtraFiles = []*os.File{resW}
		// Its own process group, so that killing it reaches whatever
		// it started too.
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		return cmd
	}
	if n.cmd, err = startRetryingBusy(newCmd); err != nil {
		closeAll()
		return nil, actionError("/init: the native action %q does not start: %w", name, err)
	}
	// The child holds its own copies; the parent's would keep stdin and
	// fd 3 from ever reporting EOF.
	_ = stdinR.Close()
	_ = resW.Close()
	n.stdout = newForwarder(outR, outW, stdout, marker)
	n.stderr = newForwarder(errR, errW, stderr, marker)
	go n.readResults(resR)
	go func() {
		n.exitErr = n.cmd.Wait()
		close(n.exited)
	}()
	return n, nil
}

// startRetryingBusy starts cmd, retrying while the kernel reports the file
// busy: another goroutine's fork may briefly hold a copy of the descriptor
// the executable was just written through (golang/go#22315).
func startRetryingBusy(newCmd func() *exec.Cmd) (*exec.Cmd, error) {
	var err error
	for attempt := 1; ; attempt++ {
		cmd := newCmd()
		if err = cmd.Start(); err == nil {
			return cmd, nil
		}
		if !errors.Is(err, syscall.ETXTBSY) || attempt == 10 {
			return nil, err
		}
		// Backoff for a transient kernel condition, not synchronisation.
		time.Sleep(time.Duration(attempt) * 5 * time.Millisecond)
	}
}

func (n *nativeAction) readResults(r *os.File) {
	defer close(n.results)
	defer r.Close()
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 {
			n.results <- line
		}
		if err != nil {
			return
		}
	}
}

// run sends one activation to the child and waits for its result line.
func (n *nativeAction) run(ctx context.Context, act *activation) ([]byte, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	result, err := n.exchange(ctx, act)
	// Sentinels go through the child's own pipes, after its output.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	n.stdout.sentinel(sctx)
	n.stderr.sentinel(sctx)
	return result, err
}

func (n *nativeAction) exchange(ctx context.Context, act *activation) ([]byte, error) {
	if n.broken != nil {
		return nil, actionError("the native action cannot run again: %v", n.broken)
	}
	select {
	case <-n.exited:
		return nil, actionError("the native action exited before this activation: %v", exitStatus(n.exitErr))
	default:
	}
	line, err := json.Marshal(act.fields)
	if err != nil {
		return nil, withStatus(http.StatusBadRequest, fmt.Errorf("/run: encoding the activation for the native action: %w", err))
	}
	// A child that stops reading stdin makes this write block; the invoker's
	// timeout then ends the container.
	if _, err := n.stdin.Write(append(line, '\n')); err != nil {
		n.broken = fmt.Errorf("writing the activation to its stdin: %w", err)
		return nil, actionError("the native action does not read its input: %v", err)
	}
	select {
	case res, ok := <-n.results:
		if !ok {
			n.broken = errors.New("it closed file descriptor 3")
			<-n.exited
			return nil, actionError("the native action exited without a result: %v", exitStatus(n.exitErr))
		}
		if !json.Valid(res) || !isObjectOrArray(res) {
			return nil, actionError(errNotDictionary)
		}
		return trimNewline(res), nil
	case <-ctx.Done():
		if errors.Is(context.Cause(ctx), errMemoryExhausted) {
			// Killing it gives the memory back at once: the runtime, as
			// starved as the action, must still answer.
			n.kill()
		}
		// Its answer may still come and would be taken for the next one's.
		n.broken = fmt.Errorf("an activation was abandoned while running: %w", context.Cause(ctx))
		return nil, actionError("the activation was cancelled: %v", context.Cause(ctx))
	}
}

// close kills the child, stops the forwarders and removes the unpacked
// executable.
func (n *nativeAction) close() error {
	n.kill()
	<-n.exited
	_ = n.stdin.Close()
	n.stdout.close()
	n.stderr.close()
	return os.RemoveAll(n.dir)
}

// kill ends the child's process group with SIGKILL.
func (n *nativeAction) kill() {
	// The group's id is the child's pid (Setpgid); the child itself is
	// killed on its own too in case it left its group.
	_ = syscall.Kill(-n.cmd.Process.Pid, syscall.SIGKILL)
	_ = n.cmd.Process.Kill()
}

func exitStatus(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

func trimNewline(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

// newMarker returns a line no action can predict, written by the runtime
// into the child's output pipes to find the end of an activation's output.
func newMarker() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("/init: drawing the output marker: %w", err)
	}
	return "\x00stemcell-end-" + hex.EncodeToString(b[:]) + "\n", nil
}
