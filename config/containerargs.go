package config

import "strings"

// EnvMap is the environment that ExtraEnvVars gives every container: each
// "k=v" splits at the first "=", and a bare "k" maps to "". A later item
// overrides an earlier one with the same key. Validate rejects empty items
// and empty keys; EnvMap skips them.
func (a ContainerArgsConfig) EnvMap() map[string]string {
	env := make(map[string]string, len(a.ExtraEnvVars))
	for _, item := range a.ExtraEnvVars {
		k, v, _ := strings.Cut(item, "=")
		if k == "" {
			continue
		}
		env[k] = v
	}
	return env
}
