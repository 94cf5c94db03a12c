package config

import (
	"slices"
	"strings"
	"testing"
)

// TestLoadHardening reads the hardening keys from each source: a file, the
// environment (a list is comma-separated) and --set.
func TestLoadHardening(t *testing.T) {
	file := writeFile(t, "h.yaml", "docker:\n  hardening:\n    profile: openwhisk\n    cap-add: [CHOWN, CAP_KILL]\ncontainer-factory:\n  container-args:\n    network: ops-net\n")
	tests := []struct {
		name    string
		file    string
		env     []string
		profile string
		capAdd  []string
		network string
	}{
		{name: "defaults", profile: ProfileStrict, capAdd: DefaultHardeningCapAdd(), network: ""},
		{name: "file", file: file, profile: ProfileOpenWhisk, capAdd: []string{"CHOWN", "CAP_KILL"}, network: "ops-net"},
		{name: "env over file", file: file, env: []string{"STEMCELL_DOCKER__HARDENING__PROFILE=strict", "STEMCELL_DOCKER__HARDENING__CAP_ADD=SETUID, SETGID"},
			profile: ProfileStrict, capAdd: []string{"SETUID", "SETGID"}, network: "ops-net"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := tt.env
			if env == nil {
				env = []string{}
			}
			c, err := Load(LoadOptions{File: tt.file, Env: env})
			if err != nil {
				t.Fatal(err)
			}
			h := c.Docker.Hardening
			if h.Profile != tt.profile || !slices.Equal(h.CapAdd, tt.capAdd) || c.ContainerFactory.ContainerArgs.Network != tt.network {
				t.Errorf("profile %q cap-add %q network %q, want %q %q %q", h.Profile, h.CapAdd, c.ContainerFactory.ContainerArgs.Network, tt.profile, tt.capAdd, tt.network)
			}
		})
	}
	_, err := Load(LoadOptions{Env: []string{"STEMCELL_DOCKER__HARDENING__PROFILE=lax"}})
	if err == nil || !strings.Contains(err.Error(), `docker.hardening.profile: "lax" is invalid: must be strict or openwhisk`) {
		t.Errorf("Load with profile lax: %v, want the key, the value and the rule", err)
	}
}

func TestCapabilityName(t *testing.T) {
	for in, want := range map[string]string{"chown": "CHOWN", "CAP_SYS_ADMIN": "SYS_ADMIN", " cap_kill ": "KILL", "ALL": "ALL"} {
		if got := CapabilityName(in); got != want {
			t.Errorf("CapabilityName(%q) = %q, want %q", in, got, want)
		}
	}
}
