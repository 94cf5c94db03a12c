package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

// writeFile writes a YAML file into the test's directory.
func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// flags parses args on a flag set with the configuration flags.
func flags(t *testing.T, args ...string) *pflag.FlagSet {
	t.Helper()
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return fs
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestLoadNothingGivesDefaults(t *testing.T) {
	c, err := Load(LoadOptions{Env: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c, Default()) {
		t.Errorf("Load() = %+v\nwant Default() = %+v", c, Default())
	}
}

func TestLoadFullFile(t *testing.T) {
	c, err := Load(LoadOptions{File: "testdata/full.yaml", Env: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	p := c.ContainerPool
	checks := []struct {
		key       string
		got, want any
	}{
		{"user-memory", p.UserMemory, 4 * GB},
		{"akka-client via pekko-client", p.AkkaClient, true},
		{"init delay", p.PrewarmExpirationCheckInitDelay, 2 * time.Minute},
		{"variance", *p.PrewarmExpirationCheckIntervalVariance, 5 * time.Second},
		{"memory sync", p.MemorySyncInterval, 500 * time.Millisecond},
		{"user cpus", *p.UserCPUs, 2.5},
		{"creation config", *p.PrewarmContainerCreationConfig, PrewarmContainerCreationConfig{MaxConcurrent: 2, CreationDelay: 3 * time.Second}},
		{"pause grace", c.ContainerProxy.Timeouts.PauseGrace, 50 * time.Millisecond},
		{"dns servers", strings.Join(c.ContainerFactory.ContainerArgs.DNSServers, ","), "8.8.8.8,1.1.1.1"},
		{"extra args", strings.Join(c.ContainerFactory.ContainerArgs.ExtraArgs["label"], ","), "team=a,tier=b"},
		{"env map", c.ContainerFactory.ContainerArgs.EnvMap()["BARE"], ""},
		{"password", c.ContainerFactory.UserImagesRegistry.Password, "s3cret"},
		{"pull timeout", c.Docker.Timeouts.Pull, 20 * time.Minute},
		{"log max", c.Limits.Log.Max, 5 * MB},
		{"concurrency max", c.Limits.Concurrency.Max, 100},
		{"manifest path, relative to the file", c.RuntimesManifest.File, mustAbs(t, "testdata/openwhisk-runtimes.json")},
		{"manifest loaded", len(c.RuntimesManifest.Manifest.Runtimes), 4},
	}
	for _, ck := range checks {
		if !reflect.DeepEqual(ck.got, ck.want) {
			t.Errorf("%s = %v, want %v", ck.key, ck.got, ck.want)
		}
	}
}

// TestPrintLoadRoundTrip feeds the printed configuration back as a file.
func TestPrintLoadRoundTrip(t *testing.T) {
	for _, file := range []string{"", "testdata/full.yaml"} {
		c, err := Load(LoadOptions{File: file, Env: []string{}})
		if err != nil {
			t.Fatal(err)
		}
		out, err := c.YAML(false)
		if err != nil {
			t.Fatal(err)
		}
		back, err := Load(LoadOptions{File: writeFile(t, "printed.yaml", string(out)), Env: []string{}})
		if err != nil {
			t.Fatalf("loading the printed configuration of %q: %v\n%s", file, err, out)
		}
		if !reflect.DeepEqual(c, back) {
			t.Errorf("round trip of %q changed the configuration:\n%s", file, out)
		}
	}
	c, err := Load(LoadOptions{File: "testdata/full.yaml", Env: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	masked, err := c.YAML(true)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(masked), "s3cret") || !strings.Contains(string(masked), "password: '******'") {
		t.Errorf("password not masked:\n%s", masked)
	}
}

func TestLoadPrecedence(t *testing.T) {
	file := writeFile(t, "c.yaml", "container-pool:\n  user-memory: 2g\n")
	tests := []struct {
		name  string
		file  string
		env   []string
		flags []string
		want  ByteSize
	}{
		{"default", "", nil, nil, GB},
		{"file over default", file, nil, nil, 2 * GB},
		{"OpenWhisk env over file", file, []string{"CONFIG_whisk_containerPool_userMemory=3g"}, nil, 3 * GB},
		{"our env over OpenWhisk env", file, []string{"STEMCELL_CONTAINER_POOL__USER_MEMORY=5 GB", "CONFIG_whisk_containerPool_userMemory=3g"}, nil, 5 * GB},
		{"--set over env", file, []string{"STEMCELL_CONTAINER_POOL__USER_MEMORY=5 GB"}, []string{"--set", "container-pool.user-memory=6g"}, 6 * GB},
		{"dedicated flag over --set", file, []string{"STEMCELL_CONTAINER_POOL__USER_MEMORY=5 GB"}, []string{"--set", "container-pool.user-memory=6g", "--user-memory", "7g"}, 7 * GB},
		{"--config flag names the file", "", nil, []string{"--config", file}, 2 * GB},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := tt.env
			if env == nil {
				env = []string{}
			}
			c, err := Load(LoadOptions{File: tt.file, Env: env, Flags: flags(t, tt.flags...)})
			if err != nil {
				t.Fatal(err)
			}
			if got := c.ContainerPool.UserMemory; got != tt.want {
				t.Errorf("user-memory = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestClusterFlag(t *testing.T) {
	c, err := Load(LoadOptions{Env: []string{}, Flags: flags(t, "--cluster", "http://10.0.0.1:2379,http://10.0.0.2:2379")})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"http://10.0.0.1:2379", "http://10.0.0.2:2379"}
	if got := c.Cluster.Endpoints; len(got) != 2 || got[0] != want[0] || got[1] != want[1] || !c.Cluster.Enabled() {
		t.Errorf("--cluster: endpoints %q, want %q", got, want)
	}
}

func TestLoadOpenWhiskEnvironment(t *testing.T) {
	tests := []struct {
		env  string
		get  func(*Config) any
		want any
	}{
		{"CONFIG_whisk_containerPool_userMemory=2048m", func(c *Config) any { return c.ContainerPool.UserMemory }, 2 * GB},
		{"CONFIG_whisk_containerPool_userCpus=3", func(c *Config) any { return *c.ContainerPool.UserCPUs }, 3.0},
		{"CONFIG_whisk_containerPool_akkaClient=true", func(c *Config) any { return c.ContainerPool.AkkaClient }, true},
		{"CONFIG_whisk_containerPool_pekkoClient=true", func(c *Config) any { return c.ContainerPool.AkkaClient }, true},
		{"CONFIG_whisk_containerPool_prewarmExpirationCheckInitDelay=2 minutes", func(c *Config) any { return c.ContainerPool.PrewarmExpirationCheckInitDelay }, 2 * time.Minute},
		{"CONFIG_whisk_containerPool_prewarmExpirationCheckInterval=30 seconds", func(c *Config) any { return c.ContainerPool.PrewarmExpirationCheckInterval }, 30 * time.Second},
		{"CONFIG_whisk_containerPool_prewarmExpirationCheckIntervalVariance=3 seconds", func(c *Config) any { return *c.ContainerPool.PrewarmExpirationCheckIntervalVariance }, 3 * time.Second},
		{"CONFIG_whisk_containerPool_prewarmPromotion=true", func(c *Config) any { return c.ContainerPool.PrewarmPromotion }, true},
		{"CONFIG_whisk_containerPool_prewarmMaxRetryLimit=9", func(c *Config) any { return c.ContainerPool.PrewarmMaxRetryLimit }, 9},
		{"CONFIG_whisk_containerPool_memorySyncInterval=2 seconds", func(c *Config) any { return c.ContainerPool.MemorySyncInterval }, 2 * time.Second},
		{"CONFIG_whisk_containerPool_batchDeletionSize=7", func(c *Config) any { return c.ContainerPool.BatchDeletionSize }, 7},
		{"CONFIG_whisk_containerProxy_timeouts_idleContainer=1 minute", func(c *Config) any { return c.ContainerProxy.Timeouts.IdleContainer }, time.Minute},
		{"CONFIG_whisk_containerProxy_timeouts_pauseGrace=50 ms", func(c *Config) any { return c.ContainerProxy.Timeouts.PauseGrace }, 50 * time.Millisecond},
		{"CONFIG_whisk_docker_client_parallelRuns=4", func(c *Config) any { return c.Docker.ParallelRuns }, 4},
		{"CONFIG_whisk_docker_client_timeouts_pull=2 minutes", func(c *Config) any { return c.Docker.Timeouts.Pull }, 2 * time.Minute},
		{"CONFIG_whisk_containerFactory_containerArgs_network=ow", func(c *Config) any { return c.ContainerFactory.ContainerArgs.Network }, "ow"},
		{"CONFIG_whisk_containerFactory_containerArgs_extraEnvVars_0=__OW_ALLOW_CONCURRENT=true", func(c *Config) any { return c.ContainerFactory.ContainerArgs.EnvMap() }, map[string]string{"__OW_ALLOW_CONCURRENT": "true"}},
		{"CONFIG_whisk_containerFactory_runtimesRegistry_url=reg:5000", func(c *Config) any { return c.ContainerFactory.RuntimesRegistry.URL }, "reg:5000"},
		{"CONFIG_whisk_memory_max=1g", func(c *Config) any { return c.Limits.Memory.Max }, GB},
		{"CONFIG_whisk_concurrencyLimit_max=50", func(c *Config) any { return c.Limits.Concurrency.Max }, 50},
		{"CONFIG_whisk_activation_payload_max=2m", func(c *Config) any { return c.Limits.Payload.Max }, 2 * MB},
		{"CONFIG_whisk_limits_actions_invokes_concurrent=30", func(c *Config) any { return c.Limits.Actions.Invokes.Concurrent }, 30},
		{"CONFIG_whisk_limits_actions_invokes_perMinute=0", func(c *Config) any { return c.Limits.Actions.Invokes.PerMinute }, 0},
		{"CONFIG_whisk_limits_triggers_fires_perMinute=ignored", func(c *Config) any { return c.Limits.Actions.Invokes.PerMinute }, 60000},
		{"CONFIG_whisk_limits_actions_sequence_maxLength=ignored", func(c *Config) any { return c.Limits.Actions.Invokes }, InvokeLimits{Concurrent: 10000, PerMinute: 60000}},
		{"CONFIG_whisk_couchdb_host=ignored", func(c *Config) any { return c.Invoker.Name }, "invoker0"},
		{"CONFIG_whisk_containerProxy_timeouts_keepingDuration=ignored", func(c *Config) any { return c.ContainerProxy.Timeouts.IdleContainer }, 10 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.env, func(t *testing.T) {
			c, err := Load(LoadOptions{Env: []string{tt.env}})
			if err != nil {
				t.Fatal(err)
			}
			if got := tt.get(c); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestLoadOurEnvironment(t *testing.T) {
	c, err := Load(LoadOptions{Env: []string{
		"STEMCELL_CONTAINER_FACTORY__CONTAINER_ARGS__DNS_SERVERS=8.8.8.8, 1.1.1.1",
		"STEMCELL_CONTAINER_FACTORY__CONTAINER_ARGS__EXTRA_ARGS__LABEL=a=1,b=2",
		"STEMCELL_CONTAINER_POOL__PREWARM_CONTAINER_CREATION_CONFIG__MAX_CONCURRENT=3",
		"STEMCELL_CONTAINER_POOL__PREWARM_CONTAINER_CREATION_CONFIG__CREATION_DELAY=2 seconds",
		"STEMCELL_CONTAINER_POOL__PEKKO_CLIENT=true",
		"STEMCELL_INVOKER__NAME=inv-9",
		"STEMCELL_LIMITS__ACTIONS__INVOKES__PER_MINUTE=120",
		"CONFIG_whisk_limits_actions_invokes_perMinute=60", // ours wins
		"STEMCELL_LOG_LEVEL=debug",                         // no "__": not a configuration key, ignored
		"PATH=/usr/bin",
	}})
	if err != nil {
		t.Fatal(err)
	}
	a := c.ContainerFactory.ContainerArgs
	if !reflect.DeepEqual(a.DNSServers, []string{"8.8.8.8", "1.1.1.1"}) || !reflect.DeepEqual(a.ExtraArgs["label"], []string{"a=1", "b=2"}) {
		t.Errorf("lists from the environment: dns %q, extra-args %q", a.DNSServers, a.ExtraArgs)
	}
	cc := c.ContainerPool.PrewarmContainerCreationConfig
	if cc == nil || cc.MaxConcurrent != 3 || cc.CreationDelay != 2*time.Second {
		t.Errorf("creation config = %+v", cc)
	}
	if !c.ContainerPool.AkkaClient || c.Invoker.Name != "inv-9" {
		t.Errorf("akka-client %v, name %q", c.ContainerPool.AkkaClient, c.Invoker.Name)
	}
	if n := c.Limits.Actions.Invokes.PerMinute; n != 120 {
		t.Errorf("limits.actions.invokes.per-minute = %d, want 120 from STEMCELL_LIMITS__ACTIONS__INVOKES__PER_MINUTE", n)
	}
}

func TestLoadRuntimesManifestSources(t *testing.T) {
	inline := `{"runtimes":{"python":[{"kind":"python:3","default":true,"image":{"name":"py"}}]}}`
	tests := []struct {
		name     string
		env      []string
		flags    []string
		wantKind string
	}{
		{"embedded default", nil, nil, "js:goja"},
		{"RUNTIMES_MANIFEST", []string{"RUNTIMES_MANIFEST=" + inline}, nil, "python:3"},
		{"flag file over env inline", []string{"RUNTIMES_MANIFEST=" + inline}, []string{"--runtimes-manifest", "testdata/openwhisk-runtimes.json"}, "java:8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := append([]string{}, tt.env...)
			c, err := Load(LoadOptions{Env: env, Flags: flags(t, tt.flags...)})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.RuntimesManifest.Manifest.ResolveKind(tt.wantKind); err != nil {
				t.Errorf("manifest lacks %s: %v", tt.wantKind, err)
			}
		})
	}
}

func TestLoadRejects(t *testing.T) {
	tests := []struct {
		name  string
		yaml  string
		env   []string
		flags []string
		want  []string // one pattern per expected problem, in order; "…" skips any text
	}{
		{"unknown key with suggestion", "container-pool:\n  user-memroy: 2g\n", nil, nil,
			[]string{"container-pool.user-memroy: unknown key (in file …); did you mean container-pool.user-memory?"}},
		{"unknown section", "containerpool:\n  user-memory: 2g\n", nil, nil,
			[]string{"containerpool.user-memory: unknown key"}},
		{"key in the wrong section", "container-pool:\n  idle-container: 1m\n", nil, nil,
			[]string{"container-pool.idle-container: unknown key …did you mean container-proxy.timeouts.idle-container?"}},
		{"every unknown key", "container-pool:\n  a: 1\n  b: 2\ndocker:\n  c: 3\n", nil, nil,
			[]string{"container-pool.a: unknown key", "container-pool.b: unknown key", "docker.c: unknown key"}},
		{"akka and pekko together", "container-pool:\n  akka-client: true\n  pekko-client: false\n", nil, nil,
			[]string{"container-pool.pekko-client: is another name of container-pool.akka-client"}},
		{"duration without unit", "container-proxy:\n  timeouts:\n    pause-grace: 10\n", nil, nil,
			[]string{`container-proxy.timeouts.pause-grace: invalid duration: 10: a unit is required`}},
		{"bad size", "container-pool:\n  user-memory: lots\n", nil, nil,
			[]string{`container-pool.user-memory: invalid size: "lots"`}},
		{"bad number", "container-pool:\n  buffer-size: ten\n", nil, nil,
			[]string{`container-pool.buffer-size: "ten" is invalid: cannot parse`}},
		{"parse and rule errors together", "container-pool:\n  user-memory: lots\n  concurrent-peek-factor: 2\n", nil, nil,
			[]string{`container-pool.user-memory: invalid size`, `container-pool.concurrent-peek-factor: 2 is invalid: must be > 0 and <= 1`}},
		{"every unreadable value, and no rule repeating one", "container-pool: 5\ndocker:\n  timeouts:\n    run: 10\nlimits:\n  memory:\n    min: lots\n", nil, nil,
			[]string{`container-pool: 5 is invalid: expected a map`, `docker.timeouts.run: invalid duration: 10: a unit is required`, `limits.memory.min: invalid size: "lots"`}},
		{"unknown STEMCELL variable", "", []string{"STEMCELL_CONTAINER_POOL__USER_MEMROY=1g"}, nil,
			[]string{"container-pool.user-memroy: unknown key (in environment variable STEMCELL_CONTAINER_POOL__USER_MEMROY)"}},
		{"bad OpenWhisk value", "", []string{"CONFIG_whisk_containerPool_concurrentPeekFactor=0"}, nil,
			[]string{"container-pool.concurrent-peek-factor: 0 is invalid"}},
		{"negative OpenWhisk invoke limit", "", []string{"CONFIG_whisk_limits_actions_invokes_perMinute=-1"}, nil,
			[]string{"limits.actions.invokes.per-minute: -1 is invalid: must be >= 0 (0 means no limit)"}},
		{"invoke limit not a number", "limits:\n  actions:\n    invokes:\n      concurrent: many\n", nil, nil,
			[]string{`limits.actions.invokes.concurrent: "many" is invalid: cannot parse`}},
		{"--set unknown key", "", nil, []string{"--set", "pool.size=3"},
			[]string{"pool.size: unknown key (in --set pool.size=3)"}},
		{"--set without =", "", nil, []string{"--set", "container-pool.user-memory"},
			[]string{`--set: "container-pool.user-memory" is invalid: must be key=value`}},
		{"bad inline manifest", "", []string{`RUNTIMES_MANIFEST={"runtimes":{"n":[{"kind":"n:1","image":{"name":"i"}}]}}`}, nil,
			[]string{`runtimes-manifest.inline: runtimes.n: must have exactly one kind`}},
		{"missing manifest file", "runtimes-manifest:\n  file: /nonexistent/runtimes.json\n", nil, nil,
			[]string{`runtimes-manifest.file: "/nonexistent/runtimes.json" is invalid: cannot be read`}},
		{"extra env var from OpenWhisk index", "", []string{"CONFIG_whisk_containerFactory_containerArgs_extraEnvVars_0==x"}, nil,
			[]string{`container-factory.container-args.extra-env-vars[0]: "=x" is invalid`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := LoadOptions{Env: append([]string{}, tt.env...), Flags: flags(t, tt.flags...)}
			if tt.yaml != "" {
				opts.File = writeFile(t, "c.yaml", tt.yaml)
			}
			c, err := Load(opts)
			if err == nil {
				t.Fatalf("Load accepted it: %+v", c)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("errors.Is(err, ErrInvalid) false: %v", err)
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tt.want) {
				t.Fatalf("got %d problems, want %d:\n%v", len(lines), len(tt.want), err)
			}
			for i, w := range tt.want {
				if !containsInOrder(lines[i], strings.Split(w, "…")) {
					t.Errorf("problem %q does not match %q", lines[i], w)
				}
			}
		})
	}
}

func TestLoadBadYAMLHasThreeProblems(t *testing.T) {
	_, err := Load(LoadOptions{File: "testdata/bad.yaml", Env: []string{}})
	kes := keyErrors(t, err)
	want := []string{"container-pool.user-memroy", "container-pool.concurrent-peek-factor", "container-pool.prewarm-expiration-check-interval"}
	if len(kes) != len(want) {
		t.Fatalf("got %d problems, want 3:\n%v", len(kes), err)
	}
	for i, k := range want {
		if kes[i].Key != k {
			t.Errorf("problem %d names %q, want %q", i, kes[i].Key, k)
		}
	}
}

func TestLoadNullValues(t *testing.T) {
	c, err := Load(LoadOptions{Env: []string{}, File: writeFile(t, "n.yaml",
		"container-pool:\n  prewarm-expiration-check-interval-variance: null\ncontainer-proxy:\n  # all commented out\ndocker:\n  timeouts:\n")})
	if err != nil {
		t.Fatal(err)
	}
	if c.ContainerPool.PrewarmExpirationCheckIntervalVariance != nil {
		t.Error("variance: null must unset the variance")
	}
	if c.ContainerProxy != Default().ContainerProxy || !reflect.DeepEqual(c.Docker, Default().Docker) {
		t.Error("an empty section must keep its defaults")
	}
}

func TestLoadFileErrors(t *testing.T) {
	if _, err := Load(LoadOptions{File: "testdata/none.yaml", Env: []string{}}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v, want ErrNotExist", err)
	}
	if _, err := Load(LoadOptions{File: writeFile(t, "l.yaml", "- a\n- b\n"), Env: []string{}}); err == nil || !strings.Contains(err.Error(), "not a YAML mapping") {
		t.Errorf("YAML list: %v", err)
	}
	if c, err := Load(LoadOptions{File: writeFile(t, "e.yaml", "# nothing\n"), Env: []string{}}); err != nil || c.ContainerPool.UserMemory != GB {
		t.Errorf("empty file: %v", err)
	}
}

// containsInOrder reports whether s holds every part, in order.
func containsInOrder(s string, parts []string) bool {
	for _, p := range parts {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return true
}
