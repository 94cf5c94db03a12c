package factory

import (
	"testing"

	"github.com/stemcell-io/stemcell/config"
)

func TestContainerNamePrefix(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "invoker0", "invoker0"},
		{"keeps dot dash underscore", "inv_0.a-b", "inv_0.a-b"},
		{"drops spaces and colons", "my invoker:1", "myinvoker1"},
		{"drops slashes", "a/b\\c", "abc"},
		{"drops non-ASCII letters", "invökér", "invkr"},
		{"drops leading punctuation", "-._inv", "inv"},
		{"empty", "", "wsk"},
		{"nothing survives", "@@ ::/", "wsk"},
		{"only punctuation survives", "-_.", "wsk"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ContainerNamePrefix(tt.in); got != tt.want {
				t.Errorf("ContainerNamePrefix(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestContainerName(t *testing.T) {
	tests := []struct {
		name   string
		prefix string
		n      uint64
		a, b   string
		want   string
	}{
		{"prewarm", "invoker0", 12, "prewarm", "js:goja", "invoker0_12_prewarm_jsgoja"},
		{"action", "invoker0", 13, "guest", "hello", "invoker0_13_guest_hello"},
		{"package action", "inv", 1, "guest@x.com", "pkg/hello-world", "inv_1_guestxcom_pkghelloworld"},
		{"keeps underscores", "inv", 0, "my_ns", "a_b", "inv_0_my_ns_a_b"},
		{"drops dots and dashes in suffix", "inv", 7, "a.b", "c-d", "inv_7_ab_cd"},
		{"empty parts", "wsk", 18446744073709551615, "", "", "wsk_18446744073709551615__"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ContainerName(tt.prefix, tt.n, tt.a, tt.b); got != tt.want {
				t.Errorf("ContainerName(%q, %d, %q, %q) = %q, want %q", tt.prefix, tt.n, tt.a, tt.b, got, tt.want)
			}
		})
	}
}

func TestResolveRegistryConfig(t *testing.T) {
	runtimes := config.RegistryConfig{URL: "runtimes.example:5000", User: "r"}
	users := config.RegistryConfig{URL: "users.example", User: "u", Password: "p"}
	tests := []struct {
		name         string
		userProvided bool
		want         config.RegistryConfig
	}{
		{"runtime image", false, runtimes},
		{"blackbox image", true, users},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ResolveRegistryConfig(tt.userProvided, runtimes, users); got != tt.want {
				t.Errorf("ResolveRegistryConfig(%v) = %+v, want %+v", tt.userProvided, got, tt.want)
			}
		})
	}
}

func TestImageRef(t *testing.T) {
	tests := []struct {
		name string
		url  string
		img  config.ImageName
		want string
	}{
		{"name only", "", config.ImageName{Name: "action-nodejs"}, "action-nodejs"},
		{"name and tag", "", config.ImageName{Name: "action-nodejs", Tag: "v1"}, "action-nodejs:v1"},
		{"prefix", "", config.ImageName{Prefix: "openwhisk", Name: "action-nodejs", Tag: "nightly"}, "openwhisk/action-nodejs:nightly"},
		{"registry", "reg:5000", config.ImageName{Prefix: "ow", Name: "n", Tag: "t"}, "reg:5000/ow/n:t"},
		{"registry trailing slash", "reg:5000/", config.ImageName{Name: "n"}, "reg:5000/n"},
		{"registry with https scheme", "https://reg.example/", config.ImageName{Prefix: "ow", Name: "n"}, "reg.example/ow/n"},
		{"registry with http scheme and path", "http://reg.example/team/", config.ImageName{Name: "n", Tag: "1"}, "reg.example/team/n:1"},
		{"registry with spaces", "  reg.example  ", config.ImageName{Name: "n"}, "reg.example/n"},
		{"prefix with slashes", "", config.ImageName{Prefix: "/ow/", Name: "n"}, "ow/n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ImageRef(config.RegistryConfig{URL: tt.url}, tt.img)
			if got != tt.want {
				t.Errorf("ImageRef(%q, %+v) = %q, want %q", tt.url, tt.img, got, tt.want)
			}
		})
	}
}
