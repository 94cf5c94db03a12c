// Package config holds Stemcell's typed configuration: defaults, validation and
// loading from a YAML file, the environment and flags. Keys follow OpenWhisk's
// kebab-case names so that an OpenWhisk operator's settings carry over.
package config

import "time"

// Config is the whole configuration of an invoker.
type Config struct {
	Invoker          InvokerConfig          `koanf:"invoker"`
	ContainerPool    ContainerPoolConfig    `koanf:"container-pool"`
	ContainerProxy   ContainerProxyConfig   `koanf:"container-proxy"`
	ContainerFactory ContainerFactoryConfig `koanf:"container-factory"`
	Docker           DockerConfig           `koanf:"docker"`
	Limits           LimitsConfig           `koanf:"limits"`
	RuntimesManifest RuntimesManifestConfig `koanf:"runtimes-manifest"`
	Server           ServerConfig           `koanf:"server"`
	Cluster          ClusterConfig          `koanf:"cluster"`
}

// InvokerConfig identifies this invoker; its name prefixes and labels every
// container it creates, so that cleanup touches only its own containers.
type InvokerConfig struct {
	Name    string `koanf:"name"`     // default "invoker0"
	APIHost string `koanf:"api-host"` // passed to containers as __OW_API_HOST
}

// ContainerPoolConfig is OpenWhisk's whisk.container-pool.
type ContainerPoolConfig struct {
	UserMemory                             ByteSize                        `koanf:"user-memory"`
	ConcurrentPeekFactor                   float64                         `koanf:"concurrent-peek-factor"`
	AkkaClient                             bool                            `koanf:"akka-client"` // alias pekko-client
	PrewarmExpirationCheckInitDelay        time.Duration                   `koanf:"prewarm-expiration-check-init-delay"`
	PrewarmExpirationCheckInterval         time.Duration                   `koanf:"prewarm-expiration-check-interval"`
	PrewarmExpirationCheckIntervalVariance *time.Duration                  `koanf:"prewarm-expiration-check-interval-variance"`
	PrewarmExpirationLimit                 int                             `koanf:"prewarm-expiration-limit"`
	PrewarmMaxRetryLimit                   int                             `koanf:"prewarm-max-retry-limit"`
	PrewarmPromotion                       bool                            `koanf:"prewarm-promotion"`
	MemorySyncInterval                     time.Duration                   `koanf:"memory-sync-interval"`
	BatchDeletionSize                      int                             `koanf:"batch-deletion-size"`
	UserCPUs                               *float64                        `koanf:"user-cpus"`
	PrewarmContainerCreationConfig         *PrewarmContainerCreationConfig `koanf:"prewarm-container-creation-config"`
	// BufferSize bounds the pool's FIFO buffer of activations waiting for
	// capacity; past it new work is rejected. Not in OpenWhisk (its buffer is
	// unbounded); default 10000.
	BufferSize int `koanf:"buffer-size"`
	// Queue is the order in which waiting activations are placed: QueueFair
	// (per-action queues, fair across namespaces) or QueueFIFO (OpenWhisk
	// v1's single strict FIFO).
	Queue string `koanf:"queue"`
	// KeepAlivePolicy decides when an idle container is paused and removed
	// and, for a predictive policy, when one is loaded ahead of an action's
	// next call (KeepAlivePolicies; package policy).
	KeepAlivePolicy string `koanf:"keep-alive-policy"`
	// EvictionPolicy orders the idle containers removed when memory is
	// short (EvictionPolicies).
	EvictionPolicy  string                `koanf:"eviction-policy"`
	GreedyDual      GreedyDualConfig      `koanf:"greedy-dual"`
	HybridHistogram HybridHistogramConfig `koanf:"hybrid-histogram"`
}

// Queue rules of container-pool.queue.
const (
	QueueFair = "fair"
	QueueFIFO = "fifo"
)

// PrewarmContainerCreationConfig throttles prewarm creation.
type PrewarmContainerCreationConfig struct {
	MaxConcurrent int           `koanf:"max-concurrent"`
	CreationDelay time.Duration `koanf:"creation-delay"`
}

// ContainerProxyConfig is OpenWhisk's whisk.container-proxy.
type ContainerProxyConfig struct {
	Timeouts          ContainerProxyTimeouts `koanf:"timeouts"`
	ActionHealthCheck ActionHealthCheck      `koanf:"action-health-check"`
}

// ContainerProxyTimeouts are the container actor's state timeouts.
type ContainerProxyTimeouts struct {
	IdleContainer time.Duration `koanf:"idle-container"` // default 10m
	PauseGrace    time.Duration `koanf:"pause-grace"`    // default 10s
}

// ActionHealthCheck configures TCP pings of idle stem cells.
type ActionHealthCheck struct {
	Enabled     bool          `koanf:"enabled"`      // default false
	CheckPeriod time.Duration `koanf:"check-period"` // default 3s
	MaxFails    int           `koanf:"max-fails"`    // default 3
}

// ContainerFactoryConfig is OpenWhisk's whisk.container-factory.
type ContainerFactoryConfig struct {
	Provider           string              `koanf:"provider"` // default "docker"
	ContainerArgs      ContainerArgsConfig `koanf:"container-args"`
	RuntimesRegistry   RegistryConfig      `koanf:"runtimes-registry"`
	UserImagesRegistry RegistryConfig      `koanf:"user-images-registry"`
	// Fake sets the fake factory's latencies (provider "fake").
	Fake FakeFactoryConfig `koanf:"fake"`
}

// FakeFactoryConfig is how long the fake factory's operations take: each
// the fixed time given plus up to Jitter more. The fake runs no container:
// it answers every run with the activation's parameters. It is for
// development clusters and load tests of everything but the engine.
type FakeFactoryConfig struct {
	Create time.Duration `koanf:"create"`
	Init   time.Duration `koanf:"init"`
	Run    time.Duration `koanf:"run"`
	Jitter time.Duration `koanf:"jitter"`
}

// ContainerArgsConfig holds the extra arguments of every container.
type ContainerArgsConfig struct {
	Network      string              `koanf:"network"` // default "": the hardening profile decides
	DNSServers   []string            `koanf:"dns-servers"`
	DNSSearch    []string            `koanf:"dns-search"`
	DNSOptions   []string            `koanf:"dns-options"`
	ExtraEnvVars []string            `koanf:"extra-env-vars"` // "k=v" or bare "k"
	ExtraArgs    map[string][]string `koanf:"extra-args"`     // flag -> values
}

// RegistryConfig is a registry prefix for images with optional credentials.
type RegistryConfig struct {
	URL      string `koanf:"url"`
	User     string `koanf:"user"`
	Password string `koanf:"password"`
}

// DockerConfig configures the Docker Engine client.
type DockerConfig struct {
	Host         string               `koanf:"host"`          // empty: DOCKER_HOST or the default socket
	ParallelRuns int                  `koanf:"parallel-runs"` // default 10; 0 = unlimited
	PullPolicy   PullPolicies         `koanf:"pull-policy"`
	Timeouts     DockerClientTimeouts `koanf:"timeouts"`
	Hardening    HardeningConfig      `koanf:"hardening"`
}

// DockerClientTimeouts bound each engine operation.
type DockerClientTimeouts struct {
	Run     time.Duration `koanf:"run"`     // 1m
	Rm      time.Duration `koanf:"rm"`      // 1m
	Pull    time.Duration `koanf:"pull"`    // 10m
	Ps      time.Duration `koanf:"ps"`      // 1m
	Inspect time.Duration `koanf:"inspect"` // 1m
	Pause   time.Duration `koanf:"pause"`   // 10s
	Unpause time.Duration `koanf:"unpause"` // 10s
	Version time.Duration `koanf:"version"` // 10s
	// Create bounds a whole creation (start slot, pull, run, readiness);
	// 0 means Pull + Run + Inspect (see CreateDeadline).
	Create time.Duration `koanf:"create"` // 0
}

// CreateDeadline is the deadline of one container creation: Create when
// set, else Pull + Run + Inspect, the calls a creation makes in turn.
func (t DockerClientTimeouts) CreateDeadline() time.Duration {
	if t.Create > 0 {
		return t.Create
	}
	return t.Pull + t.Run + t.Inspect
}

// LimitsConfig holds the ranges that action limits are validated against
// and the per-namespace admission throttles.
type LimitsConfig struct {
	Memory      MemoryLimits      `koanf:"memory"`      // min 128m, max 512m, std 256m
	Time        TimeLimits        `koanf:"time"`        // min 100ms, max 5m, std 1m
	Log         MemoryLimits      `koanf:"log"`         // min 0, max 10m, std 10m
	Concurrency ConcurrencyLimits `koanf:"concurrency"` // min 1, max 1, std 1
	Payload     PayloadLimits     `koanf:"payload"`     // max 1m, truncation 1m
	Actions     ActionsLimits     `koanf:"actions"`     // invokes: concurrent 10000, per-minute 60000
}

// ActionsLimits is OpenWhisk's whisk.limits.actions.
type ActionsLimits struct {
	Invokes InvokeLimits `koanf:"invokes"`
}

// InvokeLimits are OpenWhisk's controller throttles, per namespace; 0 means
// no limit.
type InvokeLimits struct {
	// Concurrent bounds the namespace's activations accepted and not yet
	// finished: running or waiting in the pool's buffer.
	Concurrent int `koanf:"concurrent"`
	// PerMinute bounds the namespace's invokes in one wall-clock minute.
	PerMinute int `koanf:"per-minute"`
}

// MemoryLimits is a min/max/std range of sizes.
type MemoryLimits struct {
	Min ByteSize `koanf:"min"`
	Max ByteSize `koanf:"max"`
	Std ByteSize `koanf:"std"`
}

// TimeLimits is a min/max/std range of durations.
type TimeLimits struct {
	Min time.Duration `koanf:"min"`
	Max time.Duration `koanf:"max"`
	Std time.Duration `koanf:"std"`
}

// ConcurrencyLimits is the min/max/std intra-container concurrency.
type ConcurrencyLimits struct {
	Min int `koanf:"min"`
	Max int `koanf:"max"`
	Std int `koanf:"std"`
}

// PayloadLimits bounds action results.
type PayloadLimits struct {
	Max        ByteSize `koanf:"max"`
	Truncation ByteSize `koanf:"truncation"`
}

// RuntimesManifestConfig points at a runtimes manifest: Inline (JSON text,
// as OpenWhisk injects it in RUNTIMES_MANIFEST) or File; both empty means
// the embedded default. The layer of highest precedence that sets one of
// them wins. Manifest is filled by Load (and by Default).
type RuntimesManifestConfig struct {
	// Preset names a manifest shipped with Stemcell (PresetStemcell or
	// PresetOpenWhisk); File and Inline, when set, replace it.
	Preset string `koanf:"preset"`
	File   string `koanf:"file"`
	Inline string `koanf:"inline"`
	// StemCells, when set, replaces every stem cell the manifest declares:
	// items "KIND=COUNTxMEMORY", or the one item "none".
	StemCells []string `koanf:"stem-cells"`
	Manifest  Manifest `koanf:"-"`
}
