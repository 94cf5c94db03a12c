package config

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// Validate checks every rule and returns all problems at once (an Errors,
// one per line), each naming the full key, the value and the rule.
func (c *Config) Validate() error {
	var errs Errors
	if strings.TrimSpace(c.Invoker.Name) == "" {
		errs.invalid("invoker.name", c.Invoker.Name, "must not be empty (it prefixes and labels every container)")
	}
	c.ContainerPool.validate("container-pool", &errs)
	c.ContainerProxy.validate("container-proxy", &errs)
	c.ContainerFactory.validate("container-factory", &errs)
	c.Docker.validate("docker", &errs)
	c.Limits.validate("limits", &errs)
	c.Cluster.validate("cluster", &errs)
	if err := c.Server.Validate("server"); err != nil {
		var problems Errors
		if !errors.As(err, &problems) {
			problems = Errors{err}
		}
		errs = append(errs, problems...)
	}
	if c.RuntimesManifest.File != "" && c.RuntimesManifest.Inline != "" {
		errs.invalid("runtimes-manifest.file", c.RuntimesManifest.File, "set either file or inline, not both")
	}
	// A file or inline manifest replaces the preset (Load clears it; an
	// embedder may leave Default's).
	if p := c.RuntimesManifest.Preset; p != "" && p != PresetStemcell && p != PresetOpenWhisk {
		errs.invalid("runtimes-manifest.preset", p, "must be "+PresetStemcell+" or "+PresetOpenWhisk)
	}
	if err := c.RuntimesManifest.Manifest.Validate(); err != nil {
		var problems Errors
		if !errors.As(err, &problems) {
			problems = Errors{err}
		}
		for _, e := range problems {
			errs.add(fmt.Errorf("runtimes-manifest: %w", e))
		}
	}
	return errs.Err()
}

func (p *ContainerPoolConfig) validate(k string, errs *Errors) {
	if p.UserMemory <= 0 {
		errs.invalid(k+".user-memory", p.UserMemory, "must be > 0")
	}
	if f := p.ConcurrentPeekFactor; !(f > 0 && f <= 1) { // also rejects NaN
		errs.invalid(k+".concurrent-peek-factor", f, "must be > 0 and <= 1")
	}
	if p.PrewarmExpirationCheckInitDelay < 0 {
		errs.invalid(k+".prewarm-expiration-check-init-delay", p.PrewarmExpirationCheckInitDelay, "must be >= 0")
	}
	if p.PrewarmExpirationCheckInterval < time.Second {
		errs.invalid(k+".prewarm-expiration-check-interval", p.PrewarmExpirationCheckInterval, "must be >= 1s")
	}
	if v := p.PrewarmExpirationCheckIntervalVariance; v != nil && *v < 0 {
		errs.invalid(k+".prewarm-expiration-check-interval-variance", *v, "must be >= 0")
	}
	// 0 would never remove an expired stem cell, so the stock could not shrink.
	if p.PrewarmExpirationLimit <= 0 {
		errs.invalid(k+".prewarm-expiration-limit", p.PrewarmExpirationLimit, "must be > 0")
	}
	if p.PrewarmMaxRetryLimit < 0 {
		errs.invalid(k+".prewarm-max-retry-limit", p.PrewarmMaxRetryLimit, "must be >= 0")
	}
	if p.MemorySyncInterval <= 0 {
		errs.invalid(k+".memory-sync-interval", p.MemorySyncInterval, "must be > 0")
	}
	if p.BatchDeletionSize <= 0 {
		errs.invalid(k+".batch-deletion-size", p.BatchDeletionSize, "must be > 0")
	}
	if u := p.UserCPUs; u != nil && !(*u > 0 && !math.IsInf(*u, 1)) {
		errs.invalid(k+".user-cpus", *u, "must be > 0 and finite")
	}
	if cc := p.PrewarmContainerCreationConfig; cc != nil {
		ck := k + ".prewarm-container-creation-config"
		if cc.MaxConcurrent <= 0 {
			errs.invalid(ck+".max-concurrent", cc.MaxConcurrent, "must be > 0")
		}
		if cc.CreationDelay < time.Second {
			errs.invalid(ck+".creation-delay", cc.CreationDelay, "must be >= 1s")
		}
	}
	if p.BufferSize < 0 {
		errs.invalid(k+".buffer-size", p.BufferSize, "must be >= 0")
	}
	if p.Queue != QueueFair && p.Queue != QueueFIFO {
		errs.invalid(k+".queue", p.Queue, "must be "+QueueFair+" or "+QueueFIFO)
	}
	p.validatePolicies(k, errs)
}

func (p *ContainerProxyConfig) validate(k string, errs *Errors) {
	if p.Timeouts.IdleContainer <= 0 {
		errs.invalid(k+".timeouts.idle-container", p.Timeouts.IdleContainer, "must be > 0")
	}
	if p.Timeouts.PauseGrace < 0 {
		errs.invalid(k+".timeouts.pause-grace", p.Timeouts.PauseGrace, "must be >= 0")
	}
	if p.ActionHealthCheck.CheckPeriod <= 0 {
		errs.invalid(k+".action-health-check.check-period", p.ActionHealthCheck.CheckPeriod, "must be > 0")
	}
	if p.ActionHealthCheck.MaxFails <= 0 {
		errs.invalid(k+".action-health-check.max-fails", p.ActionHealthCheck.MaxFails, "must be > 0")
	}
}

func (f *ContainerFactoryConfig) validate(k string, errs *Errors) {
	if strings.TrimSpace(f.Provider) == "" {
		errs.invalid(k+".provider", f.Provider, "must name a container factory provider (e.g. docker)")
	}
	f.ContainerArgs.validate(k+".container-args", errs)
	f.RuntimesRegistry.validate(k+".runtimes-registry", errs)
	f.UserImagesRegistry.validate(k+".user-images-registry", errs)
	for _, d := range []struct {
		key string
		v   time.Duration
	}{{"create", f.Fake.Create}, {"init", f.Fake.Init}, {"run", f.Fake.Run}, {"jitter", f.Fake.Jitter}} {
		if d.v < 0 {
			errs.invalid(k+".fake."+d.key, d.v, "must be >= 0")
		}
	}
}

func (a *ContainerArgsConfig) validate(k string, errs *Errors) {
	lists := []struct {
		key   string
		items []string
	}{{"dns-servers", a.DNSServers}, {"dns-search", a.DNSSearch}, {"dns-options", a.DNSOptions}}
	for _, l := range lists {
		for i, v := range l.items {
			if strings.TrimSpace(v) == "" {
				errs.invalid(fmt.Sprintf("%s.%s[%d]", k, l.key, i), v, "must not be empty")
			}
		}
	}
	for i, item := range a.ExtraEnvVars {
		key := fmt.Sprintf("%s.extra-env-vars[%d]", k, i)
		name, _, _ := strings.Cut(item, "=")
		switch {
		case item == "":
			errs.invalid(key, item, `must not be empty (write "KEY=value" or "KEY")`)
		case strings.TrimSpace(name) == "":
			errs.invalid(key, item, `the variable name before "=" must not be empty`)
		}
	}
	for flag := range a.ExtraArgs {
		if strings.TrimSpace(flag) == "" {
			errs.invalid(k+".extra-args", flag, "a flag name must not be empty")
		}
	}
}

func (r *RegistryConfig) validate(k string, errs *Errors) {
	if r.Password != "" && r.User == "" {
		errs.invalid(k+".user", r.User, "must be set when a password is set")
	}
}

func (d *DockerConfig) validate(k string, errs *Errors) {
	if d.ParallelRuns < 0 {
		errs.invalid(k+".parallel-runs", d.ParallelRuns, "must be >= 0 (0 means unlimited)")
	}
	t := d.Timeouts
	for _, op := range []struct {
		name string
		d    time.Duration
	}{{"run", t.Run}, {"rm", t.Rm}, {"pull", t.Pull}, {"ps", t.Ps}, {"inspect", t.Inspect}, {"pause", t.Pause}, {"unpause", t.Unpause}, {"version", t.Version}} {
		if op.d <= 0 {
			errs.invalid(k+".timeouts."+op.name, op.d, "must be > 0")
		}
	}
	if t.Create < 0 {
		errs.invalid(k+".timeouts.create", t.Create, "must be >= 0 (0 means pull + run + inspect)")
	}
	d.PullPolicy.validate(k+".pull-policy", errs)
	d.Hardening.validate(k+".hardening", errs)
}

func (l *LimitsConfig) validate(k string, errs *Errors) {
	if l.Memory.Min <= 0 {
		errs.invalid(k+".memory.min", l.Memory.Min, "must be > 0")
	}
	checkRange(errs, k+".memory", l.Memory.Min, l.Memory.Std, l.Memory.Max)
	if l.Time.Min <= 0 {
		errs.invalid(k+".time.min", l.Time.Min, "must be > 0")
	}
	checkRange(errs, k+".time", l.Time.Min, l.Time.Std, l.Time.Max)
	if l.Log.Min < 0 {
		errs.invalid(k+".log.min", l.Log.Min, "must be >= 0")
	}
	checkRange(errs, k+".log", l.Log.Min, l.Log.Std, l.Log.Max)
	if l.Concurrency.Min < 1 {
		errs.invalid(k+".concurrency.min", l.Concurrency.Min, "must be >= 1")
	}
	checkRange(errs, k+".concurrency", l.Concurrency.Min, l.Concurrency.Std, l.Concurrency.Max)
	if l.Payload.Max <= 0 {
		errs.invalid(k+".payload.max", l.Payload.Max, "must be > 0")
	}
	if l.Payload.Truncation <= 0 {
		errs.invalid(k+".payload.truncation", l.Payload.Truncation, "must be > 0")
	}
	if n := l.Actions.Invokes.Concurrent; n < 0 {
		errs.invalid(k+".actions.invokes.concurrent", n, "must be >= 0 (0 means no limit)")
	}
	if n := l.Actions.Invokes.PerMinute; n < 0 {
		errs.invalid(k+".actions.invokes.per-minute", n, "must be >= 0 (0 means no limit)")
	}
}

// checkRange enforces min <= std <= max, naming the key that breaks it.
func checkRange[T ByteSize | time.Duration | int](errs *Errors, k string, lo, std, hi T) {
	if std < lo {
		errs.invalid(k+".std", std, fmt.Sprintf("must be >= %s.min (%s)", k, show(lo)))
	}
	if std > hi {
		errs.invalid(k+".std", std, fmt.Sprintf("must be <= %s.max (%s)", k, show(hi)))
	}
	if lo > hi {
		errs.invalid(k+".min", lo, fmt.Sprintf("must be <= %s.max (%s)", k, show(hi)))
	}
}
