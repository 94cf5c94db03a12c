// Command invoker is Stemcell's standalone daemon. Its subcommands live in
// files of their own and register themselves on the root command.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// rootCmd is the invoker command; subcommands add themselves in init().
var rootCmd = &cobra.Command{
	Use:           "invoker",
	Short:         "Stemcell: a container pool manager for serverless invokers",
	SilenceUsage:  true,
	SilenceErrors: true,
}

// exitError carries a process exit code through cobra.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func main() {
	if err := rootCmd.Execute(); err != nil {
		code := 1
		if ee, ok := err.(*exitError); ok {
			code = ee.code
		}
		fmt.Fprintln(os.Stderr, "invoker:", err)
		os.Exit(code)
	}
}
