// Command bench drives the container pool with reproducible workloads and
// reports what it did: latency by start kind, cold starts, prewarm hits,
// evictions, buffer wait, memory over time, errors. It runs the pool in this
// process on the fake factory or on the Docker Engine, or drives a running
// invoker daemon over HTTP; it can run two configurations side by side on
// the same generated workload. See bench/README.md.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/term"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	progress := term.IsTerminal(int(os.Stdout.Fd())) && term.IsTerminal(int(os.Stderr.Fd()))
	if err := execute(ctx, os.Args[1:], os.Stdout, os.Stderr, progress); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// execute runs the command line args; tests call it directly.
func execute(ctx context.Context, args []string, stdout, stderr io.Writer, progress bool) error {
	cmd := newCommand(args, stdout, stderr, progress)
	cmd.SetArgs(args)
	cmd.SetOut(stdout)
	cmd.SetErr(stderr)
	return cmd.ExecuteContext(ctx)
}
