package config

import (
	"flag"
	"os"
	"strings"
	"testing"
)

//go:generate go test -run ^TestConfigReference$ . -args -update

var update = flag.Bool("update", false, "rewrite the README's configuration reference from the code")

const readmePath = "../README.md"

// referenceSection splits the README around its configuration reference:
// from its heading to the next level-2 heading or the end.
func referenceSection(readme string) (before, section, after string, ok bool) {
	const heading = "## Configuration reference\n"
	i := strings.Index(readme, heading)
	if i < 0 {
		return readme, "", "", false
	}
	rest := readme[i+len(heading):]
	j := strings.Index(rest, "\n## ")
	if j < 0 {
		return readme[:i], readme[i:], "", true
	}
	return readme[:i], readme[i : i+len(heading)+j+1], rest[j+1:], true
}

// TestConfigReference fails when the README's reference differs from the
// code: a key missing, a default changed, a name renamed. Regenerate with
// `go generate ./config`.
func TestConfigReference(t *testing.T) {
	want, err := ReferenceMarkdown()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	before, section, after, ok := referenceSection(string(data))
	if *update {
		if ok {
			data = []byte(before + want + after)
		} else {
			data = []byte(strings.TrimRight(before, "\n") + "\n\n" + want)
		}
		if err := os.WriteFile(readmePath, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if !ok {
		t.Fatal("README.md has no \"## Configuration reference\" section; run go generate ./config")
	}
	for _, k := range Keys() {
		short := k[strings.IndexByte(k, '.')+1:]
		if !strings.Contains(section, "| `"+short+"` |") || !strings.Contains(section, EnvName(k)) {
			t.Errorf("README's configuration reference lacks key %s", k)
		}
	}
	if section != want {
		t.Error("README's configuration reference is out of date; run go generate ./config")
	}
}

func TestEveryKeyDocumented(t *testing.T) {
	for _, k := range Keys() {
		if d, ok := keyDocs[k]; !ok || d.meaning == "" {
			t.Errorf("key %s has no entry in keyDocs", k)
		}
	}
	for k := range keyDocs {
		if schemaIndex()[k].Path == "" {
			t.Errorf("keyDocs documents %s, which is not a key", k)
		}
	}
}

func TestEnvNames(t *testing.T) {
	tests := []struct{ key, ours, openWhisk string }{
		{"container-pool.user-memory", "STEMCELL_CONTAINER_POOL__USER_MEMORY", "CONFIG_whisk_containerPool_userMemory"},
		{"container-pool.akka-client", "STEMCELL_CONTAINER_POOL__AKKA_CLIENT", "CONFIG_whisk_containerPool_pekkoClient"},
		{"container-proxy.timeouts.idle-container", "STEMCELL_CONTAINER_PROXY__TIMEOUTS__IDLE_CONTAINER", "CONFIG_whisk_containerProxy_timeouts_idleContainer"},
		{"docker.parallel-runs", "STEMCELL_DOCKER__PARALLEL_RUNS", "CONFIG_whisk_docker_client_parallelRuns"},
		{"docker.timeouts.pull", "STEMCELL_DOCKER__TIMEOUTS__PULL", "CONFIG_whisk_docker_client_timeouts_pull"},
		{"limits.time.max", "STEMCELL_LIMITS__TIME__MAX", "CONFIG_whisk_timeLimit_max"},
		{"limits.actions.invokes.concurrent", "STEMCELL_LIMITS__ACTIONS__INVOKES__CONCURRENT", "CONFIG_whisk_limits_actions_invokes_concurrent"},
		{"limits.actions.invokes.per-minute", "STEMCELL_LIMITS__ACTIONS__INVOKES__PER_MINUTE", "CONFIG_whisk_limits_actions_invokes_perMinute"},
		{"invoker.name", "STEMCELL_INVOKER__NAME", ""},
	}
	for _, tt := range tests {
		if got := EnvName(tt.key); got != tt.ours {
			t.Errorf("EnvName(%s) = %s, want %s", tt.key, got, tt.ours)
		}
		if got := OpenWhiskEnvName(tt.key); got != tt.openWhisk {
			t.Errorf("OpenWhiskEnvName(%s) = %s, want %s", tt.key, got, tt.openWhisk)
		}
		if k, ok := ourEnvKey(tt.ours); !ok || k != tt.key {
			t.Errorf("ourEnvKey(%s) = %s, %v", tt.ours, k, ok)
		}
		if tt.openWhisk != "" {
			if k, ok := openWhiskEnvKey(tt.openWhisk); !ok || k != tt.key {
				t.Errorf("openWhiskEnvKey(%s) = %s, %v", tt.openWhisk, k, ok)
			}
		}
	}
}
