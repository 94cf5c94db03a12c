package docker

import (
	"reflect"
	"strings"
	"testing"
)

func TestApplyExtraArgs(t *testing.T) {
	base := func() createSpec {
		return createSpec{
			Labels:    map[string]string{LabelInvoker: "inv"},
			CapDrop:   []string{"NET_RAW", "NET_ADMIN"},
			PidsLimit: 1024,
			Ulimits:   []ulimit{{Name: "nofile", Soft: 1024, Hard: 1024}},
		}
	}
	tests := []struct {
		name    string
		args    map[string][]string
		check   func(t *testing.T, s createSpec)
		wantErr string
	}{
		{name: "labels keep ours", args: map[string][]string{"label": {"team=a", LabelInvoker + "=evil"}},
			check: func(t *testing.T, s createSpec) {
				if s.Labels["team"] != "a" || s.Labels[LabelInvoker] != "inv" {
					t.Errorf("labels = %v", s.Labels)
				}
			}},
		{name: "env appended", args: map[string][]string{"env": {"A=1", "B="}},
			check: func(t *testing.T, s createSpec) {
				if !reflect.DeepEqual(s.Env, []string{"A=1", "B="}) {
					t.Errorf("env = %v", s.Env)
				}
			}},
		{name: "ulimit replaces default and adds", args: map[string][]string{"ulimit": {"nofile=2048:4096", "nproc=64"}},
			check: func(t *testing.T, s createSpec) {
				want := []ulimit{{"nofile", 2048, 4096}, {"nproc", 64, 64}}
				if !reflect.DeepEqual(s.Ulimits, want) {
					t.Errorf("ulimits = %v, want %v", s.Ulimits, want)
				}
			}},
		{name: "caps and security", args: map[string][]string{"--cap-add": {"SYS_PTRACE"}, "cap-drop": {"CHOWN"}, "security-opt": {"no-new-privileges"}},
			check: func(t *testing.T, s createSpec) {
				if !reflect.DeepEqual(s.CapAdd, []string{"SYS_PTRACE"}) || !reflect.DeepEqual(s.CapDrop, []string{"NET_RAW", "NET_ADMIN", "CHOWN"}) || !reflect.DeepEqual(s.SecurityOpt, []string{"no-new-privileges"}) {
					t.Errorf("spec = %+v", s)
				}
			}},
		{name: "hosts sysctl shm tmpfs", args: map[string][]string{"add-host": {"db:10.0.0.2"}, "sysctl": {"net.core.somaxconn=1024"}, "shm-size": {"64m"}, "tmpfs": {"/tmp:size=16m"}},
			check: func(t *testing.T, s createSpec) {
				if s.ShmSize != 64<<20 || s.Tmpfs["/tmp"] != "size=16m" || s.Sysctls["net.core.somaxconn"] != "1024" || s.ExtraHosts[0] != "db:10.0.0.2" {
					t.Errorf("spec = %+v", s)
				}
			}},
		{name: "read-only user pids log-opt", args: map[string][]string{"read-only": {""}, "user": {"1000:1000"}, "pids-limit": {"64"}, "log-opt": {"max-size=10m"}},
			check: func(t *testing.T, s createSpec) {
				if !s.ReadOnly || s.User != "1000:1000" || s.PidsLimit != 64 || s.LogOpts["max-size"] != "10m" {
					t.Errorf("spec = %+v", s)
				}
			}},
		{name: "unknown flag", args: map[string][]string{"privileged": {""}}, wantErr: "container-factory.container-args.extra-args.privileged: unknown flag"},
		{name: "bad ulimit", args: map[string][]string{"ulimit": {"nofile"}}, wantErr: `extra-args.ulimit[0]: "nofile" is invalid`},
		{name: "bad shm", args: map[string][]string{"shm-size": {"lots"}}, wantErr: "must be a positive size"},
		{name: "bad pids", args: map[string][]string{"pids-limit": {"-1"}}, wantErr: "must be a positive integer"},
		{name: "bad tmpfs", args: map[string][]string{"tmpfs": {"tmp"}}, wantErr: "must be an absolute path"},
		{name: "bad host", args: map[string][]string{"add-host": {"db"}}, wantErr: "must be host:ip"},
		{name: "empty cap", args: map[string][]string{"cap-add": {""}}, wantErr: "must not be empty"},
		{name: "bad read-only", args: map[string][]string{"read-only": {"maybe"}}, wantErr: "must be true or false"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := base()
			err := applyExtraArgs(&s, tt.args)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, s)
		})
	}
}
