package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestLocalClusterRefusesBadCounts(t *testing.T) {
	for _, tc := range []struct {
		lc   localCluster
		want string
	}{
		{localCluster{invokers: 0, fronts: 1, leaseTTL: 5 * time.Second}, "--invokers 0: must be >= 1"},
		{localCluster{invokers: 1, fronts: 0, leaseTTL: 5 * time.Second}, "--fronts 0: must be >= 1"},
		{localCluster{invokers: 1, fronts: 1, leaseTTL: time.Second}, "--lease-ttl 1s: must be >= 2s"},
	} {
		var out bytes.Buffer
		err := tc.lc.run(t.Context(), &out, &out)
		var ee *exitError
		if !errors.As(err, &ee) || ee.code != 2 || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: got %v, want exit 2 naming %q", tc.lc, err, tc.want)
		}
	}
}

func TestResolvePort(t *testing.T) {
	got, err := resolvePort("127.0.0.1:0")
	if err != nil || !strings.HasPrefix(got, "127.0.0.1:") || strings.HasSuffix(got, ":0") {
		t.Errorf("resolvePort(127.0.0.1:0) = %q, %v; want a free port", got, err)
	}
	if got, err := resolvePort("127.0.0.1:3233"); got != "127.0.0.1:3233" || err != nil {
		t.Errorf("a set port changed: %q, %v", got, err)
	}
	if _, err := resolvePort("no-port"); err == nil {
		t.Error("an address without a port was accepted")
	}
}
