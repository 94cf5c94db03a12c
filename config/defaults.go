package config

import "time"

// Default returns the configuration with every default of OpenWhisk's
// invoker (reference §1.1 to §1.5) and the embedded runtimes manifest.
func Default() *Config {
	variance := 10 * time.Second
	return &Config{
		Invoker: InvokerConfig{Name: "invoker0"},
		Server:  DefaultServer(),
		Cluster: ClusterConfig{Endpoints: []string{}, Name: "default", LeaseTTL: 15 * time.Second, DialTimeout: 5 * time.Second},
		ContainerPool: ContainerPoolConfig{
			UserMemory:                             1024 * MB,
			ConcurrentPeekFactor:                   0.5,
			AkkaClient:                             false,
			PrewarmExpirationCheckInitDelay:        10 * time.Minute,
			PrewarmExpirationCheckInterval:         10 * time.Minute,
			PrewarmExpirationCheckIntervalVariance: &variance,
			PrewarmExpirationLimit:                 100,
			PrewarmMaxRetryLimit:                   5,
			PrewarmPromotion:                       false,
			MemorySyncInterval:                     time.Second,
			BatchDeletionSize:                      10,
			UserCPUs:                               nil,
			PrewarmContainerCreationConfig:         nil,
			BufferSize:                             10000,
			Queue:                                  QueueFair,
			KeepAlivePolicy:                        PolicyOpenWhisk,
			EvictionPolicy:                         PolicyOpenWhisk,
			GreedyDual:                             defaultGreedyDual(),
			HybridHistogram:                        defaultHybridHistogram(),
		},
		ContainerProxy: ContainerProxyConfig{
			Timeouts: ContainerProxyTimeouts{
				IdleContainer: 10 * time.Minute,
				PauseGrace:    10 * time.Second,
			},
			ActionHealthCheck: ActionHealthCheck{
				Enabled:     false,
				CheckPeriod: 3 * time.Second,
				MaxFails:    3,
			},
		},
		ContainerFactory: ContainerFactoryConfig{
			Provider: "docker",
			ContainerArgs: ContainerArgsConfig{
				Network:      "",
				DNSServers:   []string{},
				DNSSearch:    []string{},
				DNSOptions:   []string{},
				ExtraEnvVars: []string{},
				ExtraArgs:    map[string][]string{},
			},
		},
		Docker: DockerConfig{
			ParallelRuns: 10,
			PullPolicy:   PullPolicies{Runtimes: PullMissing, UserImages: PullAlways},
			Timeouts: DockerClientTimeouts{
				Run:     time.Minute,
				Rm:      time.Minute,
				Pull:    10 * time.Minute,
				Ps:      time.Minute,
				Inspect: time.Minute,
				Pause:   10 * time.Second,
				Unpause: 10 * time.Second,
				Version: 10 * time.Second,
			},
			Hardening: HardeningConfig{Profile: ProfileStrict, CapAdd: DefaultHardeningCapAdd()},
		},
		Limits: LimitsConfig{
			Memory:      MemoryLimits{Min: 128 * MB, Max: 512 * MB, Std: 256 * MB},
			Time:        TimeLimits{Min: 100 * time.Millisecond, Max: 5 * time.Minute, Std: time.Minute},
			Log:         MemoryLimits{Min: 0, Max: 10 * MB, Std: 10 * MB},
			Concurrency: ConcurrencyLimits{Min: 1, Max: 1, Std: 1},
			Payload:     PayloadLimits{Max: 1 * MB, Truncation: 1 * MB},
			// One namespace may fill the pool's buffer (buffer-size 10000)
			// but not overflow it, and may sustain 1000 invokes a second.
			Actions: ActionsLimits{Invokes: InvokeLimits{Concurrent: 10000, PerMinute: 60000}},
		},
		RuntimesManifest: RuntimesManifestConfig{Preset: PresetStemcell, StemCells: []string{}, Manifest: DefaultManifest()},
	}
}
