package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// runConfig runs `config args...` in-process with the given environment.
func runConfig(t *testing.T, env []string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	cmd := newConfigCmd(env)
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(args)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err = cmd.Execute()
	return out.String(), errOut.String(), err
}

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return 1
}

func TestConfigCheck(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	if err := os.WriteFile(good, []byte("container-pool:\n  user-memory: 2048m\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		env      []string
		args     []string
		wantCode int
		wantOut  string
		wantErrs []string // one per line of stderr
	}{
		{"defaults", nil, []string{"check"}, 0, "configuration is valid\n", nil},
		{"good file", nil, []string{"check", "--config", good}, 0, "configuration is valid\n", nil},
		{"bad.yaml: three problems", nil, []string{"check", "--config", "../../config/testdata/bad.yaml"}, 2, "", []string{
			"container-pool.user-memroy: unknown key",
			"container-pool.concurrent-peek-factor: 1.5 is invalid: must be > 0 and <= 1",
			"container-pool.prewarm-expiration-check-interval: 500ms is invalid: must be >= 1s",
		}},
		{"bad environment", []string{"CONFIG_whisk_containerPool_userMemory=0"}, []string{"check"}, 2, "", []string{
			"container-pool.user-memory: 0 B is invalid: must be > 0",
		}},
		{"bad flag value", nil, []string{"check", "--set", "docker.parallel-runs=-1", "--user-memory", "x"}, 2, "", []string{
			`container-pool.user-memory: invalid size: "x"`,
			"docker.parallel-runs: -1 is invalid: must be >= 0",
		}},
		{"openwhisk preset with stem cells for one kind", nil, []string{"check", "--set", "runtimes-manifest.preset=openwhisk",
			"--set", "runtimes-manifest.stem-cells=nodejs:20=2x256MB,python:default=1x256MB"}, 0, "configuration is valid\n", nil},
		{"the preset's file as a manifest", nil, []string{"check", "--runtimes-manifest", "../../config/presets/openwhisk.json"}, 0, "configuration is valid\n", nil},
		{"stem cells for a kind the manifest lacks", nil, []string{"check", "--set", "runtimes-manifest.stem-cells=python:3.11=1x256MB"}, 2, "", []string{
			`runtimes-manifest.stem-cells[0]: "python:3.11=1x256MB" is invalid: the kind is not in the runtimes manifest; kinds: `,
		}},
		{"missing file", nil, []string{"check", "--config", filepath.Join(dir, "none.yaml")}, 2, "", []string{"no such file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := append([]string{}, tt.env...)
			out, errOut, err := runConfig(t, env, tt.args...)
			if got := exitCode(err); got != tt.wantCode {
				t.Fatalf("exit code %d (%v), want %d; stderr:\n%s", got, err, tt.wantCode, errOut)
			}
			if out != tt.wantOut {
				t.Errorf("stdout %q, want %q", out, tt.wantOut)
			}
			lines := strings.Split(strings.TrimSuffix(errOut, "\n"), "\n")
			if len(tt.wantErrs) == 0 {
				if errOut != "" {
					t.Errorf("stderr %q, want none", errOut)
				}
				return
			}
			if len(lines) != len(tt.wantErrs) {
				t.Fatalf("stderr has %d lines, want %d:\n%s", len(lines), len(tt.wantErrs), errOut)
			}
			for i, w := range tt.wantErrs {
				if !strings.Contains(lines[i], w) {
					t.Errorf("line %q does not contain %q", lines[i], w)
				}
			}
		})
	}
}

func TestConfigPrint(t *testing.T) {
	env := []string{
		"STEMCELL_CONTAINER_FACTORY__USER_IMAGES_REGISTRY__USER=robot",
		"STEMCELL_CONTAINER_FACTORY__USER_IMAGES_REGISTRY__PASSWORD=hunter2",
		"CONFIG_whisk_containerPool_userMemory=2048m",
	}
	out, errOut, err := runConfig(t, env, "print", "--invoker-name", "inv-print")
	if err != nil {
		t.Fatalf("print: %v\n%s", err, errOut)
	}
	if strings.Contains(out, "hunter2") {
		t.Fatalf("password printed in clear:\n%s", out)
	}
	var got map[string]map[string]any
	if err := yaml.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("output is not YAML: %v\n%s", err, out)
	}
	reg := got["container-factory"]["user-images-registry"].(map[string]any)
	checks := []struct {
		what      string
		got, want any
	}{
		{"user-memory", got["container-pool"]["user-memory"], "2 GB"},
		{"invoker name", got["invoker"]["name"], "inv-print"},
		{"registry user", reg["user"], "robot"},
		{"registry password", reg["password"], "******"},
		{"kebab-case key", got["container-proxy"]["timeouts"].(map[string]any)["idle-container"], "10m"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
		}
	}
	if _, _, err := runConfig(t, []string{}, "print", "--set", "nope=1"); exitCode(err) != 2 {
		t.Errorf("print of an invalid configuration: exit %d, want 2", exitCode(err))
	}
}

// TestConfigCheckProcess runs the real binary's main to see the exit status
// and the lines an operator sees.
func TestConfigCheckProcess(t *testing.T) {
	if os.Getenv("INVOKER_TEST_MAIN") == "1" {
		os.Args = append([]string{"invoker"}, strings.Fields(os.Getenv("INVOKER_TEST_ARGS"))...)
		main()
		os.Exit(0)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestConfigCheckProcess$")
	cmd.Env = append(os.Environ(), "INVOKER_TEST_MAIN=1", "INVOKER_TEST_ARGS=config check --config ../../config/testdata/bad.yaml")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 {
		t.Fatalf("exit: %v, want status 2; stderr:\n%s", err, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	if len(lines) != 4 || lines[3] != "invoker: invalid configuration: 3 problem(s)" {
		t.Errorf("stderr, want three problems and a summary:\n%s", stderr.String())
	}
}
