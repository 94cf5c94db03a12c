package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/stemcell-io/stemcell/config"
)

func init() { rootCmd.AddCommand(newConfigCmd(nil)) }

// newConfigCmd builds `invoker config print|check`. environ is the
// environment to read (nil: the process's), so tests can inject one.
func newConfigCmd(environ []string) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Show or check the effective configuration (file < environment < flags)",
	}
	load := func(c *cobra.Command) (*config.Config, error) {
		cfg, err := config.Load(config.LoadOptions{Env: environ, Flags: c.Flags()})
		if err != nil {
			return nil, invalidConfig(c.ErrOrStderr(), err)
		}
		return cfg, nil
	}
	print := &cobra.Command{
		Use:   "print [--config FILE]",
		Short: "Print the effective configuration as YAML, passwords masked",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			cfg, err := load(c)
			if err != nil {
				return err
			}
			out, err := cfg.YAML(true)
			if err != nil {
				return err
			}
			_, err = c.OutOrStdout().Write(out)
			return err
		},
	}
	check := &cobra.Command{
		Use:   "check [--config FILE]",
		Short: "Check the configuration: exit 0 if valid, 2 listing every problem otherwise",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if _, err := load(c); err != nil {
				return err
			}
			_, err := fmt.Fprintln(c.OutOrStdout(), "configuration is valid")
			return err
		},
	}
	for _, sub := range []*cobra.Command{print, check} {
		config.RegisterFlags(sub.Flags())
		cmd.AddCommand(sub)
	}
	return cmd
}

// invalidConfig prints every problem, one per line, and returns the error
// that makes the process exit with status 2.
func invalidConfig(w io.Writer, err error) error {
	var problems config.Errors
	n := 1
	if errors.As(err, &problems) {
		n = len(problems)
	}
	fmt.Fprintln(w, err)
	return &exitError{code: 2, err: fmt.Errorf("invalid configuration: %d problem(s)", n)}
}
