package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// procGroup is local-cluster's children: each an invoker binary of its
// own, logging to a file, killed with the parent if the parent dies.
type procGroup struct {
	exe    string
	dir    string
	stderr io.Writer
	procs  []*proc
}

type proc struct {
	name    string
	url     string
	logPath string
	cmd     *exec.Cmd
	exited  chan struct{} // closed once Wait returned; err is set then
	err     error
}

// start launches `invoker <args> --listen <addr> --data-dir <dir>/<name>`.
// A listen port of 0 is resolved here, so the URL is known before the
// child binds it.
func (g *procGroup) start(name, listen string, args []string) (*proc, error) {
	addr, err := resolvePort(listen)
	if err != nil {
		return nil, fmt.Errorf("%s: --listen %s: %w", name, listen, err)
	}
	logPath := filepath.Join(g.dir, "logs", name+".log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer logFile.Close() // the child has its own descriptor
	args = append(args, "--listen", addr, "--data-dir", filepath.Join(g.dir, name))
	cmd := exec.Command(g.exe, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Children die with local-cluster even when it is killed outright.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &proc{name: name, url: "http://" + addr, logPath: logPath, cmd: cmd, exited: make(chan struct{})}
	go func() { p.err = cmd.Wait(); close(p.exited) }()
	g.procs = append(g.procs, p)
	return p, nil
}

// resolvePort returns listen with a free port in place of port 0. Another
// process could take the port before the child binds it; the child then
// fails to start, which waitReady reports.
func resolvePort(listen string) (string, error) {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "", err
	}
	if port != "0" {
		return listen, nil
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// waitReady polls every child's /readyz until each answers 200; a child
// that exits first fails the start with the end of its log.
func (g *procGroup) waitReady(ctx context.Context, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	for _, p := range g.procs {
		for {
			select {
			case <-p.exited:
				return fmt.Errorf("%s exited before it was ready (%v); its log ends:\n%s", p.name, p.err, tail(p.logPath, 20))
			default:
			}
			if resp, err := client.Get(p.url + "/readyz"); err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					break
				}
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("%s not ready at %s within %s (%w); its log ends:\n%s", p.name, p.url, limit, ctx.Err(), tail(p.logPath, 20))
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	return nil
}

// watch reports children that exit until ctx ends.
func (g *procGroup) watch(ctx context.Context) {
	var wg sync.WaitGroup
	for _, p := range g.procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case <-p.exited:
				fmt.Fprintf(g.stderr, "local-cluster: %s (pid %d) exited: %v; the others keep running\n", p.name, p.cmd.Process.Pid, p.err)
			case <-ctx.Done():
			}
		}()
	}
	<-ctx.Done()
	wg.Wait()
}

// stop sends SIGTERM to the fronts, waits for them, then to the invokers
// (so no front forwards to an invoker that is going), and kills whatever
// is left after grace.
func (g *procGroup) stop(grace time.Duration) {
	deadline := time.Now().Add(grace)
	fronts, invokers := []*proc{}, []*proc{}
	for _, p := range g.procs {
		if strings.HasPrefix(p.name, "front-") {
			fronts = append(fronts, p)
		} else {
			invokers = append(invokers, p)
		}
	}
	for _, set := range [][]*proc{fronts, invokers} {
		for _, p := range set {
			_ = p.cmd.Process.Signal(syscall.SIGTERM)
		}
		for _, p := range set {
			select {
			case <-p.exited:
			case <-time.After(time.Until(deadline)):
				_ = p.cmd.Process.Kill()
				<-p.exited
				fmt.Fprintf(g.stderr, "local-cluster: killed %s, still running %s after SIGTERM\n", p.name, grace)
			}
		}
	}
}

// tail returns the last n lines of a file, for start errors.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
