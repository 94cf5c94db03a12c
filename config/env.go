package config

import (
	"strings"
	"unicode"
)

// Environment variable names.
//
// Our own: EnvPrefix, then the key's path in upper case with "__" between
// levels and "_" for "-": container-pool.user-memory is
// STEMCELL_CONTAINER_POOL__USER_MEMORY. Variables with the prefix but no
// "__" are not configuration keys and are ignored (others may use them);
// those with "__" must name a key, or loading fails.
//
// OpenWhisk's deploy names: "CONFIG_whisk_" then the key's path with "_"
// between levels and camelCase for kebab-case, as OpenWhisk's deployment
// turns them into whisk.* settings: CONFIG_whisk_containerPool_userMemory.
// Those naming settings Stemcell does not have are ignored, since an
// OpenWhisk deployment sets many. RUNTIMES_MANIFEST holds the manifest's
// JSON text, as OpenWhisk injects it.
const (
	EnvPrefix           = "STEMCELL_"
	OpenWhiskPrefix     = "CONFIG_whisk_"
	RuntimesManifestEnv = "RUNTIMES_MANIFEST"
)

// openWhiskSections maps OpenWhisk's whisk.* sections onto ours; the rest
// of the path is kept.
var openWhiskSections = []struct{ whisk, ours string }{
	{"container-pool", "container-pool"},
	{"container-proxy", "container-proxy"},
	{"container-factory", "container-factory"},
	{"docker.client.timeouts", "docker.timeouts"},
	{"docker.client", "docker"},
	{"memory", "limits.memory"},
	{"time-limit", "limits.time"},
	{"log-limit", "limits.log"},
	{"concurrency-limit", "limits.concurrency"},
	{"activation.payload", "limits.payload"},
	{"limits.actions", "limits.actions"},
}

// EnvName is our environment variable for a key.
func EnvName(key string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(strings.ReplaceAll(key, "-", "_"), ".", "__"))
}

// OpenWhiskEnvName is OpenWhisk's deploy variable for a key, or "" when the
// key has no OpenWhisk section.
func OpenWhiskEnvName(key string) string {
	for _, s := range openWhiskSections {
		if rest, ok := strings.CutPrefix(key, s.ours+"."); ok {
			if key == "container-pool.akka-client" {
				rest = "pekko-client" // OpenWhisk's name since its Pekko migration
			}
			parts := strings.Split(s.whisk+"."+rest, ".")
			for i, p := range parts {
				parts[i] = kebabToCamel(p)
			}
			return OpenWhiskPrefix + strings.Join(parts, "_")
		}
	}
	return ""
}

// ourEnvKey maps STEMCELL_A_B__C_D to "a-b.c-d"; ok is false for variables
// that are not configuration keys.
func ourEnvKey(name string) (key string, ok bool) {
	rest, found := strings.CutPrefix(name, EnvPrefix)
	if !found || !strings.Contains(rest, "__") {
		return "", false
	}
	parts := strings.Split(strings.ToLower(rest), "__")
	for i, p := range parts {
		parts[i] = strings.ReplaceAll(p, "_", "-")
	}
	return strings.Join(parts, "."), true
}

// openWhiskEnvKey maps CONFIG_whisk_containerPool_userMemory to
// "container-pool.user-memory"; ok is false for settings we do not have.
func openWhiskEnvKey(name string) (key string, ok bool) {
	rest, found := strings.CutPrefix(name, OpenWhiskPrefix)
	if !found || rest == "" {
		return "", false
	}
	parts := strings.Split(rest, "_")
	for i, p := range parts {
		parts[i] = camelToKebab(p)
	}
	path := strings.Join(parts, ".")
	for _, s := range openWhiskSections {
		if tail, ok := strings.CutPrefix(path, s.whisk+"."); ok {
			key = s.ours + "." + tail
			if strings.HasPrefix(key, "container-pool.pekko-client") {
				key = strings.Replace(key, "pekko-client", "akka-client", 1)
			}
			return key, knownKey(key)
		}
	}
	return "", false
}

func camelToKebab(s string) string {
	var b strings.Builder
	for i, r := range s {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('-')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

func kebabToCamel(s string) string {
	parts := strings.Split(s, "-")
	for i := 1; i < len(parts); i++ {
		if parts[i] != "" {
			parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
		}
	}
	return strings.Join(parts, "")
}
