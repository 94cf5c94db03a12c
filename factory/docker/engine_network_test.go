package docker

import (
	"testing"

	"github.com/docker/docker/api/types/network"
)

func TestIPv4Gateway(t *testing.T) {
	tests := []struct {
		cfg  network.IPAMConfig
		want string
	}{
		{network.IPAMConfig{Subnet: "172.18.0.0/16", Gateway: "172.18.0.1"}, "172.18.0.1"},
		{network.IPAMConfig{Subnet: "172.17.0.0/16"}, "172.17.0.1"}, // the engine's default bridge leaves it out
		{network.IPAMConfig{Subnet: "10.1.2.0/24", Gateway: "10.1.2.254"}, "10.1.2.254"},
		{network.IPAMConfig{Subnet: "fd00::/64", Gateway: "fd00::1"}, ""},
		{network.IPAMConfig{Subnet: "fd00::/64"}, ""},
		{network.IPAMConfig{Subnet: "10.0.0.0/8", Gateway: "not an address"}, ""},
		{network.IPAMConfig{}, ""},
	}
	for _, tt := range tests {
		if got := ipv4Gateway(tt.cfg); got != tt.want {
			t.Errorf("ipv4Gateway(%+v) = %q, want %q", tt.cfg, got, tt.want)
		}
	}
}
