package main

import (
	"net"
	"strings"
	"testing"

	"github.com/stemcell-io/stemcell/config"
)

func TestAdvertisedAddress(t *testing.T) {
	tcp := func(s string) net.Addr { a, _ := net.ResolveTCPAddr("tcp", s); return a }
	for _, tc := range []struct {
		address, listen, want, err string
	}{
		{"", "127.0.0.1:3233", "127.0.0.1:3233", ""},
		{"", "10.1.2.3:80", "10.1.2.3:80", ""},
		{"10.0.0.1:3233", "0.0.0.0:3233", "10.0.0.1:3233", ""},
		{"https://inv1.example:443", "[::]:443", "https://inv1.example:443", ""},
		{"", "0.0.0.0:3233", "", "set cluster.address (e.g. 10.0.0.1:3233)"},
		{"", "[::]:3233", "", "every address of this host"},
	} {
		got, err := advertisedAddress(config.ClusterConfig{Address: tc.address}, tcp(tc.listen))
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("address %q listen %s: err %v, want one saying %q", tc.address, tc.listen, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("address %q listen %s: %q, %v; want %q", tc.address, tc.listen, got, err, tc.want)
		}
	}
}
