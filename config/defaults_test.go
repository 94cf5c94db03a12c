package config

import (
	"strings"
	"testing"
	"time"
)

// TestDefaults checks every default against the values of reference §1.1
// to §1.5, written as the reference writes them.
func TestDefaults(t *testing.T) {
	c := Default()
	size := MustParseByteSize
	dur := func(s string) time.Duration {
		d, err := ParseDuration(s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	p := c.ContainerPool
	tests := []struct {
		key       string
		got, want any
	}{
		{"container-pool.user-memory", p.UserMemory, size("1024 m")},
		{"container-pool.concurrent-peek-factor", p.ConcurrentPeekFactor, 0.5},
		{"container-pool.akka-client", p.AkkaClient, false},
		{"container-pool.prewarm-expiration-check-init-delay", p.PrewarmExpirationCheckInitDelay, dur("10 minute")},
		{"container-pool.prewarm-expiration-check-interval", p.PrewarmExpirationCheckInterval, dur("10 minute")},
		{"container-pool.prewarm-expiration-check-interval-variance", *p.PrewarmExpirationCheckIntervalVariance, dur("10 seconds")},
		{"container-pool.prewarm-expiration-limit", p.PrewarmExpirationLimit, 100},
		{"container-pool.prewarm-max-retry-limit", p.PrewarmMaxRetryLimit, 5},
		{"container-pool.prewarm-promotion", p.PrewarmPromotion, false},
		{"container-pool.memory-sync-interval", p.MemorySyncInterval, dur("1 second")},
		{"container-pool.batch-deletion-size", p.BatchDeletionSize, 10},
		{"container-pool.user-cpus unset", p.UserCPUs == nil, true},
		{"container-pool.prewarm-container-creation-config unset", p.PrewarmContainerCreationConfig == nil, true},
		{"container-pool.buffer-size", p.BufferSize, 10000},
		{"container-proxy.timeouts.idle-container", c.ContainerProxy.Timeouts.IdleContainer, dur("10 minutes")},
		{"container-proxy.timeouts.pause-grace", c.ContainerProxy.Timeouts.PauseGrace, dur("10 seconds")},
		{"container-proxy.action-health-check.enabled", c.ContainerProxy.ActionHealthCheck.Enabled, false},
		{"container-proxy.action-health-check.check-period", c.ContainerProxy.ActionHealthCheck.CheckPeriod, dur("3 seconds")},
		{"container-proxy.action-health-check.max-fails", c.ContainerProxy.ActionHealthCheck.MaxFails, 3},
		{"container-factory.provider", c.ContainerFactory.Provider, "docker"},
		// Not OpenWhisk's "bridge": empty lets docker.hardening.profile decide.
		{"container-factory.container-args.network", c.ContainerFactory.ContainerArgs.Network, ""},
		{"container-factory.container-args.extra-env-vars", len(c.ContainerFactory.ContainerArgs.ExtraEnvVars), 0},
		{"container-factory.container-args.extra-args", len(c.ContainerFactory.ContainerArgs.ExtraArgs), 0},
		{"container-factory.runtimes-registry.url", c.ContainerFactory.RuntimesRegistry.URL, ""},
		{"container-factory.user-images-registry.url", c.ContainerFactory.UserImagesRegistry.URL, ""},
		{"docker.parallel-runs", c.Docker.ParallelRuns, 10},
		{"docker.timeouts.run", c.Docker.Timeouts.Run, dur("1m")},
		{"docker.timeouts.rm", c.Docker.Timeouts.Rm, dur("1m")},
		{"docker.timeouts.pull", c.Docker.Timeouts.Pull, dur("10m")},
		{"docker.timeouts.ps", c.Docker.Timeouts.Ps, dur("1m")},
		{"docker.timeouts.inspect", c.Docker.Timeouts.Inspect, dur("1m")},
		{"docker.timeouts.pause", c.Docker.Timeouts.Pause, dur("10s")},
		{"docker.timeouts.unpause", c.Docker.Timeouts.Unpause, dur("10s")},
		{"docker.timeouts.version", c.Docker.Timeouts.Version, dur("10s")},
		{"docker.hardening.profile", c.Docker.Hardening.Profile, "strict"},
		{"docker.hardening.cap-add", strings.Join(c.Docker.Hardening.CapAdd, ","), "CHOWN,DAC_OVERRIDE,FOWNER,FSETID,KILL,SETGID,SETUID"},
		{"limits.memory.min", c.Limits.Memory.Min, size("128m")},
		{"limits.memory.max", c.Limits.Memory.Max, size("512m")},
		{"limits.memory.std", c.Limits.Memory.Std, size("256m")},
		{"limits.time.min", c.Limits.Time.Min, dur("100ms")},
		{"limits.time.max", c.Limits.Time.Max, dur("5m")},
		{"limits.time.std", c.Limits.Time.Std, dur("1m")},
		{"limits.log.min", c.Limits.Log.Min, size("0m")},
		{"limits.log.max", c.Limits.Log.Max, size("10m")},
		{"limits.log.std", c.Limits.Log.Std, size("10m")},
		{"limits.concurrency", c.Limits.Concurrency, ConcurrencyLimits{Min: 1, Max: 1, Std: 1}},
		{"limits.payload.max", c.Limits.Payload.Max, size("1m")},
		{"limits.payload.truncation", c.Limits.Payload.Truncation, size("1m")},
		// Not OpenWhisk's 30 and 60 (reference §7): sized for one machine
		// serving bursts, and so that one namespace cannot overflow buffer-size.
		{"limits.actions.invokes.concurrent", c.Limits.Actions.Invokes.Concurrent, p.BufferSize},
		{"limits.actions.invokes.per-minute", c.Limits.Actions.Invokes.PerMinute, 60000},
		{"invoker.name", c.Invoker.Name, "invoker0"},
		{"runtimes-manifest.file", c.RuntimesManifest.File, ""},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %v, want %v", tt.key, tt.got, tt.want)
		}
	}
	if err := c.Validate(); err != nil {
		t.Errorf("defaults must be valid: %v", err)
	}
}

// TestDefaultIsFresh guards against shared pointers between calls.
func TestDefaultIsFresh(t *testing.T) {
	a, b := Default(), Default()
	*a.ContainerPool.PrewarmExpirationCheckIntervalVariance = time.Hour
	a.RuntimesManifest.Manifest.Runtimes["nodejs"][0].Kind = "changed"
	if *b.ContainerPool.PrewarmExpirationCheckIntervalVariance != 10*time.Second {
		t.Error("Default shares the variance pointer between calls")
	}
	if b.RuntimesManifest.Manifest.Runtimes["nodejs"][0].Kind != "js:goja" {
		t.Error("Default shares the manifest between calls")
	}
}
