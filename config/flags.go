package config

import (
	"fmt"
	"strings"

	"github.com/knadh/koanf/providers/confmap"
	"github.com/knadh/koanf/providers/posflag"
	"github.com/knadh/koanf/v2"
	"github.com/spf13/pflag"
)

// Flag names that RegisterFlags defines.
const (
	FlagConfig = "config"
	FlagSet    = "set"
)

// flagKeys maps the dedicated flags onto their keys.
var flagKeys = map[string]string{
	"user-memory":       "container-pool.user-memory",
	"invoker-name":      "invoker.name",
	"runtimes-manifest": "runtimes-manifest.file",
	"cluster":           "cluster.endpoints",
}

// RegisterFlags defines the configuration flags on fs: --config FILE, a
// few dedicated overrides, and --set key=value for any key (repeatable).
// Load reads them from LoadOptions.Flags; flags override the environment
// and the file. A dedicated flag wins over --set for the same key.
func RegisterFlags(fs *pflag.FlagSet) {
	fs.String(FlagConfig, "", "YAML configuration file (keys as in README's configuration reference)")
	fs.String("user-memory", "", "container-pool.user-memory: memory for all action containers (e.g. 2048m, 4 GB)")
	fs.String("invoker-name", "", "invoker.name: prefixes and labels this invoker's containers")
	fs.String("runtimes-manifest", "", "runtimes-manifest.file: runtimes manifest JSON file (default: the embedded one)")
	fs.String("cluster", "", "cluster.endpoints: etcd client URLs, comma-separated (e.g. http://10.0.0.1:2379,http://10.0.0.2:2379); joins that cluster")
	fs.StringArray(FlagSet, nil, "set any configuration key: --set container-pool.user-cpus=2 (repeatable; lists comma-separated)")
}

// flagLayers reads the flags that were set: --set pairs first, then the
// dedicated flags over them.
func flagLayers(fs *pflag.FlagSet) (set, dedicated *koanf.Koanf, errs Errors) {
	set = koanf.New(".")
	if f := fs.Lookup(FlagSet); f != nil && f.Changed {
		pairs, err := fs.GetStringArray(FlagSet)
		if err != nil {
			errs.add(fmt.Errorf("--%s: %w", FlagSet, err))
		}
		m := map[string]any{}
		for _, p := range pairs {
			k, v, ok := strings.Cut(p, "=")
			k = strings.TrimSpace(k)
			switch {
			case !ok || k == "":
				errs.add(&KeyError{Key: "--" + FlagSet, Value: show(p), Rule: "must be key=value, e.g. container-pool.user-memory=2048m"})
			case !knownKey(k):
				errs.add(unknownKeyError(k, "--set "+p))
			default:
				m[k] = v
			}
		}
		if err := set.Load(confmap.Provider(m, "."), nil); err != nil {
			errs.add(err)
		}
	}
	dedicated = koanf.New(".")
	p := posflag.ProviderWithFlag(fs, ".", nil, func(f *pflag.Flag) (string, any) {
		key, ok := flagKeys[f.Name]
		if !ok || !f.Changed {
			return "", nil
		}
		return key, f.Value.String()
	})
	if err := dedicated.Load(p, nil); err != nil {
		errs.add(err)
	}
	return set, dedicated, errs
}

// configFileFlag returns --config's value when fs has that flag.
func configFileFlag(fs *pflag.FlagSet) string {
	if fs == nil {
		return ""
	}
	if f := fs.Lookup(FlagConfig); f != nil {
		return f.Value.String()
	}
	return ""
}
