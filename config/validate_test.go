package config

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// keyErrors returns the KeyErrors inside err, in order.
func keyErrors(t *testing.T, err error) []*KeyError {
	t.Helper()
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("error %T %v is not an Errors list", err, err)
	}
	var out []*KeyError
	for _, e := range es {
		var ke *KeyError
		if !errors.As(e, &ke) {
			t.Fatalf("problem %q is not a KeyError", e)
		}
		out = append(out, ke)
	}
	return out
}

func dptr(d time.Duration) *time.Duration { return &d }

func TestValidateRejects(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(c *Config)
		key    string // the key the single error must name
		want   string // a part of its message
	}{
		{"user memory zero", func(c *Config) { c.ContainerPool.UserMemory = 0 }, "container-pool.user-memory", "0 B is invalid: must be > 0"},
		{"factor above 1", func(c *Config) { c.ContainerPool.ConcurrentPeekFactor = 1.5 }, "container-pool.concurrent-peek-factor", "1.5 is invalid: must be > 0 and <= 1"},
		{"factor zero", func(c *Config) { c.ContainerPool.ConcurrentPeekFactor = 0 }, "container-pool.concurrent-peek-factor", "must be > 0 and <= 1"},
		{"init delay negative", func(c *Config) { c.ContainerPool.PrewarmExpirationCheckInitDelay = -time.Second }, "container-pool.prewarm-expiration-check-init-delay", "-1s is invalid: must be >= 0"},
		{"interval below 1 s", func(c *Config) { c.ContainerPool.PrewarmExpirationCheckInterval = 999 * time.Millisecond }, "container-pool.prewarm-expiration-check-interval", "999ms is invalid: must be >= 1s"},
		{"variance negative", func(c *Config) { c.ContainerPool.PrewarmExpirationCheckIntervalVariance = dptr(-time.Second) }, "container-pool.prewarm-expiration-check-interval-variance", "must be >= 0"},
		{"expiration limit zero", func(c *Config) { c.ContainerPool.PrewarmExpirationLimit = 0 }, "container-pool.prewarm-expiration-limit", "must be > 0"},
		{"retry limit negative", func(c *Config) { c.ContainerPool.PrewarmMaxRetryLimit = -1 }, "container-pool.prewarm-max-retry-limit", "must be >= 0"},
		{"memory sync zero", func(c *Config) { c.ContainerPool.MemorySyncInterval = 0 }, "container-pool.memory-sync-interval", "must be > 0"},
		{"batch deletion zero", func(c *Config) { c.ContainerPool.BatchDeletionSize = 0 }, "container-pool.batch-deletion-size", "must be > 0"},
		{"user cpus zero", func(c *Config) { c.ContainerPool.UserCPUs = cpus(0) }, "container-pool.user-cpus", "0 is invalid: must be > 0"},
		{"creation max concurrent zero", func(c *Config) {
			c.ContainerPool.PrewarmContainerCreationConfig = &PrewarmContainerCreationConfig{MaxConcurrent: 0, CreationDelay: time.Second}
		}, "container-pool.prewarm-container-creation-config.max-concurrent", "must be > 0"},
		{"creation delay below 1 s", func(c *Config) {
			c.ContainerPool.PrewarmContainerCreationConfig = &PrewarmContainerCreationConfig{MaxConcurrent: 1, CreationDelay: 500 * time.Millisecond}
		}, "container-pool.prewarm-container-creation-config.creation-delay", "500ms is invalid: must be >= 1s"},
		{"buffer size negative", func(c *Config) { c.ContainerPool.BufferSize = -1 }, "container-pool.buffer-size", "must be >= 0"},
		{"idle container zero", func(c *Config) { c.ContainerProxy.Timeouts.IdleContainer = 0 }, "container-proxy.timeouts.idle-container", "must be > 0"},
		{"pause grace negative", func(c *Config) { c.ContainerProxy.Timeouts.PauseGrace = -time.Millisecond }, "container-proxy.timeouts.pause-grace", "must be >= 0"},
		{"health check period zero", func(c *Config) { c.ContainerProxy.ActionHealthCheck.CheckPeriod = 0 }, "container-proxy.action-health-check.check-period", "must be > 0"},
		{"health check max fails zero", func(c *Config) { c.ContainerProxy.ActionHealthCheck.MaxFails = 0 }, "container-proxy.action-health-check.max-fails", "must be > 0"},
		{"provider empty", func(c *Config) { c.ContainerFactory.Provider = "" }, "container-factory.provider", "must name"},
		{"extra env var empty item", func(c *Config) { c.ContainerFactory.ContainerArgs.ExtraEnvVars = []string{"A=1", ""} }, "container-factory.container-args.extra-env-vars[1]", `"" is invalid: must not be empty`},
		{"extra env var empty key", func(c *Config) { c.ContainerFactory.ContainerArgs.ExtraEnvVars = []string{"=x"} }, "container-factory.container-args.extra-env-vars[0]", `"=x" is invalid: the variable name`},
		{"dns server empty", func(c *Config) { c.ContainerFactory.ContainerArgs.DNSServers = []string{" "} }, "container-factory.container-args.dns-servers[0]", "must not be empty"},
		{"extra args empty flag", func(c *Config) { c.ContainerFactory.ContainerArgs.ExtraArgs = map[string][]string{"": {"x"}} }, "container-factory.container-args.extra-args", "flag name must not be empty"},
		{"registry password without user", func(c *Config) { c.ContainerFactory.UserImagesRegistry.Password = "secret" }, "container-factory.user-images-registry.user", "must be set when a password is set"},
		{"parallel runs negative", func(c *Config) { c.Docker.ParallelRuns = -1 }, "docker.parallel-runs", "must be >= 0"},
		{"docker timeout zero", func(c *Config) { c.Docker.Timeouts.Pull = 0 }, "docker.timeouts.pull", "0s is invalid: must be > 0"},
		{"docker create deadline negative", func(c *Config) { c.Docker.Timeouts.Create = -time.Second }, "docker.timeouts.create", "must be >= 0"},
		{"hardening profile unknown", func(c *Config) { c.Docker.Hardening.Profile = "paranoid" }, "docker.hardening.profile", `"paranoid" is invalid: must be strict or openwhisk`},
		{"hardening profile empty", func(c *Config) { c.Docker.Hardening.Profile = "" }, "docker.hardening.profile", `"" is invalid: must be strict or openwhisk`},
		{"hardening cap-add unknown", func(c *Config) { c.Docker.Hardening.CapAdd = []string{"CHOWN", "NET_FLY"} }, "docker.hardening.cap-add[1]", `"NET_FLY" is invalid: must be a Linux capability such as CHOWN or CAP_CHOWN`},
		{"hardening cap-add empty item", func(c *Config) { c.Docker.Hardening.CapAdd = []string{""} }, "docker.hardening.cap-add[0]", `"" is invalid: must be a Linux capability`},
		{"memory min zero", func(c *Config) { c.Limits.Memory.Min = 0; c.Limits.Memory.Std = 0 }, "limits.memory.min", "must be > 0"},
		{"memory std above max", func(c *Config) { c.Limits.Memory.Std = GB }, "limits.memory.std", "1 GB is invalid: must be <= limits.memory.max (512 MB)"},
		{"memory std below min", func(c *Config) { c.Limits.Memory.Std = 64 * MB }, "limits.memory.std", "must be >= limits.memory.min (128 MB)"},
		{"time std above max", func(c *Config) { c.Limits.Time.Std = time.Hour }, "limits.time.std", "must be <= limits.time.max (5m)"},
		{"log min negative", func(c *Config) { c.Limits.Log.Min = -1 }, "limits.log.min", "must be >= 0"},
		{"concurrency min zero", func(c *Config) { c.Limits.Concurrency.Min = 0; c.Limits.Concurrency.Std = 1 }, "limits.concurrency.min", "must be >= 1"},
		{"concurrency std above max", func(c *Config) { c.Limits.Concurrency.Std = 2 }, "limits.concurrency.std", "must be <= limits.concurrency.max (1)"},
		{"payload max zero", func(c *Config) { c.Limits.Payload.Max = 0 }, "limits.payload.max", "must be > 0"},
		{"payload truncation zero", func(c *Config) { c.Limits.Payload.Truncation = 0 }, "limits.payload.truncation", "must be > 0"},
		{"concurrent invokes negative", func(c *Config) { c.Limits.Actions.Invokes.Concurrent = -1 }, "limits.actions.invokes.concurrent", "-1 is invalid: must be >= 0 (0 means no limit)"},
		{"invokes per minute negative", func(c *Config) { c.Limits.Actions.Invokes.PerMinute = -5 }, "limits.actions.invokes.per-minute", "-5 is invalid: must be >= 0 (0 means no limit)"},
		{"invoker name empty", func(c *Config) { c.Invoker.Name = " " }, "invoker.name", "must not be empty"},
		{"manifest file and inline", func(c *Config) { c.RuntimesManifest.File = "a.json"; c.RuntimesManifest.Inline = "{}" }, "runtimes-manifest.file", "not both"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			tt.mutate(c)
			err := c.Validate()
			if err == nil {
				t.Fatal("Validate accepted the configuration")
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("errors.Is(err, ErrInvalid) is false for %v", err)
			}
			kes := keyErrors(t, err)
			if len(kes) != 1 {
				t.Fatalf("got %d errors, want 1:\n%v", len(kes), err)
			}
			if kes[0].Key != tt.key {
				t.Errorf("error names key %q, want %q (%v)", kes[0].Key, tt.key, err)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, tt.key+": ") || !strings.Contains(msg, tt.want) {
				t.Errorf("message %q does not start with %q and contain %q", msg, tt.key+": ", tt.want)
			}
		})
	}
}

func TestValidateAcceptsEdges(t *testing.T) {
	c := Default()
	c.ContainerPool.ConcurrentPeekFactor = 1
	c.ContainerPool.PrewarmExpirationCheckInterval = time.Second
	c.ContainerPool.PrewarmExpirationCheckIntervalVariance = nil
	c.ContainerPool.PrewarmMaxRetryLimit = 0
	c.ContainerPool.UserCPUs = cpus(0.5)
	c.ContainerPool.PrewarmContainerCreationConfig = &PrewarmContainerCreationConfig{MaxConcurrent: 1, CreationDelay: time.Second}
	c.ContainerPool.BufferSize = 0
	c.ContainerProxy.Timeouts.PauseGrace = 0
	c.Docker.ParallelRuns = 0
	c.ContainerFactory.ContainerArgs.ExtraEnvVars = []string{"BARE", "K=", "K2=a=b"}
	c.ContainerFactory.UserImagesRegistry = RegistryConfig{URL: "r", User: "u", Password: "p"}
	c.Docker.Hardening = HardeningConfig{Profile: ProfileOpenWhisk, CapAdd: []string{"cap_sys_ptrace", "ALL", " net_bind_service "}}
	if err := c.Validate(); err != nil {
		t.Errorf("Validate rejected edge values:\n%v", err)
	}
	c.Docker.Hardening.CapAdd = []string{}
	if err := c.Validate(); err != nil {
		t.Errorf("Validate rejected an empty docker.hardening.cap-add:\n%v", err)
	}
}

func TestValidateReportsEverything(t *testing.T) {
	c := Default()
	c.ContainerPool.UserMemory = 0
	c.ContainerPool.ConcurrentPeekFactor = 1.5
	c.ContainerPool.PrewarmExpirationCheckInterval = 0
	c.Docker.Timeouts.Run = 0
	c.ContainerFactory.ContainerArgs.ExtraEnvVars = []string{""}
	c.RuntimesManifest.Manifest.Runtimes["nodejs"][0].StemCells[0].InitialCount = 0
	err := c.Validate()
	want := []string{
		"container-pool.user-memory",
		"container-pool.concurrent-peek-factor",
		"container-pool.prewarm-expiration-check-interval",
		"container-factory.container-args.extra-env-vars[0]",
		"docker.timeouts.run",
		"runtimes.nodejs[0].stemCells[0].initialCount",
	}
	kes := keyErrors(t, err)
	if len(kes) != len(want) {
		t.Fatalf("got %d errors, want %d:\n%v", len(kes), len(want), err)
	}
	for i, k := range want {
		if kes[i].Key != k {
			t.Errorf("error %d names %q, want %q", i, kes[i].Key, k)
		}
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != len(want) {
		t.Errorf("Error() has %d lines, want one per problem:\n%s", len(lines), err)
	}
	if !strings.HasPrefix(lines[len(lines)-1], "runtimes-manifest: runtimes.nodejs[0].stemCells[0].initialCount: 0 is invalid") {
		t.Errorf("manifest problem not prefixed: %q", lines[len(lines)-1])
	}
}
