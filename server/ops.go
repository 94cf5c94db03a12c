package server

import (
	"cmp"
	"context"
	"net/http"
	"time"

	"github.com/stemcell-io/stemcell/actors"
	"github.com/stemcell-io/stemcell/config"
)

func (s *Server) serveReady(w http.ResponseWriter, r *http.Request) {
	switch {
	case !s.accepting.Load():
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "stopping"})
	case !s.ready.Load():
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "starting"})
	default:
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	}
}

// usageJSON is a count and its memory in MB.
type usageJSON struct {
	Count    int   `json:"count"`
	MemoryMB int64 `json:"memoryMB"`
}

// poolJSON is the memory-sync snapshot as /v1/pool serves it.
type poolJSON struct {
	Time      time.Time `json:"time"`
	TotalMB   int64     `json:"totalMB"`
	FreeMB    int64     `json:"freeMB"`
	Busy      usageJSON `json:"busy"`
	Idle      usageJSON `json:"idle"`
	Prewarmed usageJSON `json:"prewarmed"`
	Starting  usageJSON `json:"starting"`
	Removing  usageJSON `json:"removing"`
	Buffered  usageJSON `json:"buffered"`
	InFlight  int       `json:"inFlight"`
	// The per-namespace limits, by OpenWhisk's names (0: no limit).
	ConcurrentInvocations int `json:"concurrentInvocations"`
	InvocationsPerMinute  int `json:"invocationsPerMinute"`
	MaxContainers         int `json:"maxContainers"`
	// The pool's policies (container-pool.keep-alive-policy, eviction-policy).
	KeepAlivePolicy string `json:"keepAlivePolicy"`
	EvictionPolicy  string `json:"evictionPolicy"`
}

func usage(u actors.Usage) usageJSON { return usageJSON{Count: u.Count, MemoryMB: u.Memory.MBs()} }

func (s *Server) servePool(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		writeError(w, r, errorf(http.StatusMethodNotAllowed, msgMethodNotAllow, "GET"))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	snap, err := s.inv.Snapshot(ctx)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, poolJSON{
		Time: snap.Time, TotalMB: snap.Total.MBs(), FreeMB: snap.Free.MBs(),
		Busy: usage(snap.Busy), Idle: usage(snap.Idle), Prewarmed: usage(snap.Prewarmed),
		Starting: usage(snap.Starting), Removing: usage(snap.Removing), Buffered: usage(snap.Buffered),
		InFlight: s.admit.count(), ConcurrentInvocations: s.admit.concurrent, InvocationsPerMinute: s.admit.perMinute,
		MaxContainers:   s.cfg.MaxContainers(),
		KeepAlivePolicy: cmp.Or(s.cfg.ContainerPool.KeepAlivePolicy, config.PolicyOpenWhisk),
		EvictionPolicy:  cmp.Or(s.cfg.ContainerPool.EvictionPolicy, config.PolicyOpenWhisk),
	})
}
