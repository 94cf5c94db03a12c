package main

import (
	"fmt"
	"net"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/stemcell-io/stemcell/runtime"
)

// runtimeCmd turns the invoker binary into the action runtime: inside an
// action container the image's entry point is "invoker runtime".
func runtimeCmd() *cobra.Command {
	listen := fmt.Sprintf(":%d", runtime.Port)
	cmd := &cobra.Command{
		Use:   "runtime",
		Short: "Serve the action runtime (POST /init, POST /run) inside an action container",
		Long: `Serve the runtime side of the invoker-to-container protocol: one /init with the
action's code (JavaScript, or a native executable speaking the actionloop
protocol), then /run per activation. Action output goes to stdout and stderr,
each activation's ended by the sentinel line. Concurrent /run calls are
allowed when __OW_ALLOW_CONCURRENT=true.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				return fmt.Errorf("--listen %q: %w", listen, err)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGTERM, os.Interrupt)
			defer stop()
			// Outside a container, or without a memory limit, nothing
			// is watched: the action may use what the host has.
			mem, err := runtime.OpenMemory(runtime.CgroupRoot)
			if err == nil {
				debug.SetMemoryLimit(mem.GoMemoryLimit())
			}
			srv := runtime.NewServer(runtime.Options{
				Concurrent: os.Getenv("__OW_ALLOW_CONCURRENT") == "true",
				Memory:     mem,
			})
			return srv.Serve(ctx, ln)
		},
	}
	cmd.Flags().StringVar(&listen, "listen", listen, "address to serve /init and /run on")
	return cmd
}

func init() { rootCmd.AddCommand(runtimeCmd()) }
