// Command nativeaction is a native action for the factory's tests, speaking
// the actionloop protocol: one JSON line per activation on stdin, one result
// line on file descriptor 3. It greets params.name and logs on both streams;
// with params.hog it keeps allocating until it runs out of memory; with
// params.fail it writes "reason <name>" on both streams and answers a
// result that is not a dictionary, a developer error; with params.probe it
// answers what it may do in its container (see probe).
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// execCheck is the argument on which the program only says it ran: probe
// runs a copy of itself with it to show that /tmp allows exec.
const execCheck = "--exec-check"

// probeParams are the tests' questions; every answer is "" for success or
// the error's text.
type probeParams struct {
	Dial []string `json:"dial"` // host:port to open a TCP connection to
}

// probe reports the process's user and privileges as /proc/self/status
// says, whether it can change the root filesystem, whether it can write and
// execute a file in the temporary directory, and whether each address in
// p.Dial accepts a connection within a second.
func probe(p probeParams) map[string]any {
	status := map[string]string{}
	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			k, v, ok := strings.Cut(line, ":")
			if ok {
				status[k] = strings.TrimSpace(v)
			}
		}
	}
	errText := func(err error) string {
		if err != nil {
			return err.Error()
		}
		return ""
	}
	dial := map[string]string{}
	for _, addr := range p.Dial {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			_ = c.Close()
		}
		dial[addr] = errText(err)
	}
	writeRoot := os.WriteFile("/x", []byte("x"), 0o644)
	if writeRoot == nil {
		_ = os.Remove("/x")
	}
	return map[string]any{
		"uid":       os.Getuid(),
		"status":    status,
		"writeRoot": errText(writeRoot),
		"chmodBin":  errText(os.Chmod("/invoker", 0o755)), // the runtime's own binary, its mode unchanged
		"tmpExec":   errText(runCopy()),
		"dial":      dial,
	}
}

// runCopy copies this executable into the temporary directory and runs
// the copy.
func runCopy() error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	src, err := os.Open(self)
	if err != nil {
		return err
	}
	defer src.Close()
	path := filepath.Join(os.TempDir(), fmt.Sprintf("probe-%d", os.Getpid()))
	dst, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	defer os.Remove(path)
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return err
	}
	if err := dst.Close(); err != nil {
		return err
	}
	out, err := exec.Command(path, execCheck).Output()
	if err != nil {
		return err
	}
	if string(out) != "exec ok\n" {
		return fmt.Errorf("the copy said %q", out)
	}
	return nil
}

// node is a small object with pointers, so that the collector keeps
// walking all of them, as an interpreter full of objects does.
type node struct {
	next *node
	m    map[int]int
}

// hog keeps everything it allocates, for ever.
func hog() *node {
	var head *node
	for i := 0; ; i++ {
		head = &node{next: head, m: map[int]int{i: i}}
	}
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == execCheck {
		fmt.Println("exec ok")
		return
	}
	results := os.NewFile(3, "results")
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 16<<20)
	for in.Scan() {
		var msg struct {
			Value struct {
				Name  string       `json:"name"`
				Hog   bool         `json:"hog"`
				Fail  bool         `json:"fail"`
				Probe *probeParams `json:"probe"`
			} `json:"value"`
		}
		out := map[string]any{}
		err := json.Unmarshal(in.Bytes(), &msg)
		if err == nil && msg.Value.Probe != nil {
			b, _ := json.Marshal(probe(*msg.Value.Probe))
			fmt.Fprintf(results, "%s\n", b)
			continue
		}
		if err == nil && msg.Value.Hog {
			fmt.Println("native action eating memory")
			hog()
		}
		if err == nil && msg.Value.Fail {
			fmt.Println("reason " + msg.Value.Name)
			fmt.Fprintln(os.Stderr, "reason "+msg.Value.Name)
			fmt.Fprintln(results, "42")
			continue
		}
		if err != nil {
			out["error"] = err.Error()
		} else {
			out["greeting"] = "hello " + msg.Value.Name
			out["native"] = true
		}
		fmt.Println("native stdout for", msg.Value.Name)
		fmt.Fprintln(os.Stderr, "native stderr for", msg.Value.Name)
		b, _ := json.Marshal(out)
		fmt.Fprintf(results, "%s\n", b)
	}
}
