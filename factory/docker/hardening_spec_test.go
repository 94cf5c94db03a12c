package docker

import (
	"reflect"
	"testing"

	"github.com/rs/zerolog"

	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/factory"
)

// TestProfileSpec checks what each profile, and the extra arguments on top
// of it, put into the create request, for the invoker's own runtime image
// and for any other; TestProfileSettings checks that the engine applies it.
func TestProfileSpec(t *testing.T) {
	const builtin, other = "stemcell/action-runtime:x", "openwhisk/action-nodejs-v20:1"
	defaultCaps := config.DefaultHardeningCapAdd()
	tmp128 := "rw,exec,nosuid,nodev,size=67108864,mode=1777" // half of 128 MiB
	type want struct {
		network            string
		capAdd, capDrop    []string
		secOpt             []string
		user               string
		readOnly           bool
		tmpfs              map[string]string
		builtinCapAddEmpty bool
	}
	tests := []struct {
		name    string
		mutate  func(c *config.Config)
		opts    Options
		builtin want
		other   want
	}{
		{name: "strict default",
			builtin: want{network: DefaultActionNetwork, capDrop: []string{"ALL"}, secOpt: []string{"no-new-privileges:true"},
				user: "65534:65534", readOnly: true, tmpfs: map[string]string{"/tmp": tmp128}},
			other: want{network: DefaultActionNetwork, capAdd: defaultCaps, capDrop: []string{"ALL"}, secOpt: []string{"no-new-privileges:true"}}},
		{name: "openwhisk",
			mutate:  func(c *config.Config) { c.Docker.Hardening.Profile = config.ProfileOpenWhisk },
			builtin: want{network: "bridge", capDrop: []string{"NET_RAW", "NET_ADMIN"}},
			other:   want{network: "bridge", capDrop: []string{"NET_RAW", "NET_ADMIN"}}},
		{name: "strict with the operator's cap-add and own network name",
			mutate: func(c *config.Config) { c.Docker.Hardening.CapAdd = []string{"cap_sys_ptrace"} },
			opts:   Options{ActionNetwork: "mine"},
			builtin: want{network: "mine", capDrop: []string{"ALL"}, secOpt: []string{"no-new-privileges:true"},
				user: "65534:65534", readOnly: true, tmpfs: map[string]string{"/tmp": tmp128}},
			other: want{network: "mine", capAdd: []string{"cap_sys_ptrace"}, capDrop: []string{"ALL"}, secOpt: []string{"no-new-privileges:true"}}},
		{name: "strict relaxed by extra-args",
			mutate: func(c *config.Config) {
				c.ContainerFactory.ContainerArgs.ExtraArgs = map[string][]string{
					"cap-add": {"NET_BIND_SERVICE"}, "cap-drop": {"chown", "CAP_KILL"},
					"security-opt": {"no-new-privileges:false"}, "read-only": {"false"}, "user": {"0"}, "tmpfs": {"/tmp:rw,size=1m"},
				}
			},
			builtin: want{network: DefaultActionNetwork, capAdd: []string{"NET_BIND_SERVICE"}, capDrop: []string{"ALL"},
				secOpt: []string{"no-new-privileges:true", "no-new-privileges:false"}, user: "0", tmpfs: map[string]string{"/tmp": "rw,size=1m"}},
			other: want{network: DefaultActionNetwork, capAdd: []string{"DAC_OVERRIDE", "FOWNER", "FSETID", "SETGID", "SETUID", "NET_BIND_SERVICE"}, capDrop: []string{"ALL"},
				secOpt: []string{"no-new-privileges:true", "no-new-privileges:false"}, user: "0", tmpfs: map[string]string{"/tmp": "rw,size=1m"}}},
		{name: "openwhisk tightened by extra-args",
			mutate: func(c *config.Config) {
				c.Docker.Hardening.Profile = config.ProfileOpenWhisk
				c.ContainerFactory.ContainerArgs.ExtraArgs = map[string][]string{"cap-drop": {"ALL"}, "cap-add": {"KILL"}, "read-only": {""}}
			},
			builtin: want{network: "bridge", capAdd: []string{"KILL"}, capDrop: []string{"ALL"}, readOnly: true},
			other:   want{network: "bridge", capAdd: []string{"KILL"}, capDrop: []string{"ALL"}, readOnly: true}},
		{name: "a configured network is used as is",
			mutate:  func(c *config.Config) { c.ContainerFactory.ContainerArgs.Network = "ops-net" },
			builtin: want{network: "ops-net", capDrop: []string{"ALL"}, secOpt: []string{"no-new-privileges:true"}, user: "65534:65534", readOnly: true, tmpfs: map[string]string{"/tmp": tmp128}},
			other:   want{network: "ops-net", capAdd: defaultCaps, capDrop: []string{"ALL"}, secOpt: []string{"no-new-privileges:true"}}},
		{name: "default is the bridge",
			mutate:  func(c *config.Config) { c.ContainerFactory.ContainerArgs.Network = "default" },
			builtin: want{network: "bridge", capDrop: []string{"ALL"}, secOpt: []string{"no-new-privileges:true"}, user: "65534:65534", readOnly: true, tmpfs: map[string]string{"/tmp": tmp128}},
			other:   want{network: "bridge", capAdd: defaultCaps, capDrop: []string{"ALL"}, secOpt: []string{"no-new-privileges:true"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config.Default()
			if tt.mutate != nil {
				tt.mutate(cfg)
			}
			if err := cfg.Validate(); err != nil {
				t.Fatal(err)
			}
			tt.opts.RuntimeImages = []string{builtin}
			f, err := newFactory(cfg, zerolog.Nop(), nil, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				ref  string
				want want
			}{{builtin, tt.builtin}, {other, tt.other}} {
				spec := factory.ContainerSpec{Name: f.namePrefix + "c", Memory: 128 * config.MB}
				got := f.containerSpec(spec, c.ref)
				w := c.want
				if got.Network != w.network || !equalStrings(got.CapAdd, w.capAdd) || !equalStrings(got.CapDrop, w.capDrop) ||
					!equalStrings(got.SecurityOpt, w.secOpt) || got.User != w.user || got.ReadOnly != w.readOnly || !equalMaps(got.Tmpfs, w.tmpfs) {
					t.Errorf("%s: network %q capadd %v capdrop %v secopt %v user %q read-only %v tmpfs %v\nwant %+v",
						c.ref, got.Network, got.CapAdd, got.CapDrop, got.SecurityOpt, got.User, got.ReadOnly, got.Tmpfs, w)
				}
			}
			if want := tt.builtin.network == DefaultActionNetwork || tt.builtin.network == "mine"; (f.ownedNetwork != "") != want {
				t.Errorf("ownedNetwork = %q, want one: %v", f.ownedNetwork, want)
			}
		})
	}
}

// TestBuiltinTmpSizedPerContainer: /tmp is half of each container's memory,
// and the base spec the factory keeps is not changed by it.
func TestBuiltinTmpSizedPerContainer(t *testing.T) {
	const builtin = "stemcell/action-runtime:x"
	f, err := newFactory(config.Default(), zerolog.Nop(), nil, Options{RuntimeImages: []string{builtin}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		memory config.ByteSize
		want   string
	}{
		{128 * config.MB, "rw,exec,nosuid,nodev,size=67108864,mode=1777"},
		{512 * config.MB, "rw,exec,nosuid,nodev,size=268435456,mode=1777"},
		{0, "rw,exec,nosuid,nodev,size=67108864,mode=1777"}, // no limit: the fallback
	} {
		got := f.containerSpec(factory.ContainerSpec{Name: f.namePrefix + "c", Memory: tt.memory}, builtin).Tmpfs["/tmp"]
		if got != tt.want {
			t.Errorf("memory %v: /tmp %q, want %q", tt.memory, got, tt.want)
		}
	}
	if f.builtinBase.Tmpfs["/tmp"] != tmpfsPerContainer {
		t.Errorf("base /tmp = %q: a container's size leaked into the base", f.builtinBase.Tmpfs["/tmp"])
	}
}

func equalStrings(a, b []string) bool { return len(a) == 0 && len(b) == 0 || reflect.DeepEqual(a, b) }

func equalMaps(a, b map[string]string) bool {
	return len(a) == 0 && len(b) == 0 || reflect.DeepEqual(a, b)
}
