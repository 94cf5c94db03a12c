package prewarm

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"
)

func TestHealthVerdict(t *testing.T) {
	bad := errors.New("connection refused")
	tests := []struct {
		name       string
		fails      int
		err        error
		maxFails   int
		wantFails  int
		wantRemove bool
	}{
		{"success clears", 2, nil, 3, 0, false},
		{"first failure", 0, bad, 3, 1, false},
		{"second failure", 1, bad, 3, 2, false},
		{"third failure removes", 2, bad, 3, 3, true},
		{"max-fails 1 removes at once", 0, bad, 1, 1, true},
		{"max-fails 0 counts as 1", 0, bad, 0, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, rm := HealthVerdict(tt.fails, tt.err, tt.maxFails)
			if f != tt.wantFails || rm != tt.wantRemove {
				t.Errorf("HealthVerdict(%d, %v, %d) = (%d, %v), want (%d, %v)",
					tt.fails, tt.err, tt.maxFails, f, rm, tt.wantFails, tt.wantRemove)
			}
		})
	}
}

func TestNetDial(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	addr := ln.Addr().String()
	accepted := make(chan struct{})
	go func() {
		defer close(accepted)
		if c, err := ln.Accept(); err == nil {
			c.Close()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := netDial(ctx, addr); err != nil {
		t.Errorf("dial of a listening port %s: %v", addr, err)
	}
	<-accepted
	ln.Close()
	if err := netDial(ctx, addr); err == nil {
		t.Errorf("dial of closed port %s succeeded", addr)
	}
}
