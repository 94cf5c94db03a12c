package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/stemcell-io/stemcell/actors"
	"github.com/stemcell-io/stemcell/bench/report"
	"github.com/stemcell-io/stemcell/bench/sim"
	"github.com/stemcell-io/stemcell/bench/workload"
	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/factory"
	"github.com/stemcell-io/stemcell/pool"
)

// jsAction waits its exec_ms parameter on a timer, so a real runtime spends
// the arrival's execution time the way an I/O-bound function would.
const jsAction = `function main(params) {
  const ms = Number(params.exec_ms) || 0;
  return new Promise(resolve => setTimeout(() => resolve({ok: true, slept_ms: ms}), ms));
}`

// benchNamespace is the invocation namespace of every activation.
const benchNamespace = "guest"

// poolTarget runs the pool in this process on its own actor system, with a
// private Prometheus registry to read the eviction counter from.
type poolTarget struct {
	sys     *actor.ActorSystem
	pool    *pool.Pool
	reg     *prometheus.Registry
	actions []actors.Action
	prefix  string // activation ids
	closeFn func() error
}

// poolActions makes one action per workload function, of kind and image
// from the manifest, with the function's memory.
func poolActions(cfg *config.Config, kind string, w *workload.Workload, timeout time.Duration) ([]actors.Action, error) {
	rk, err := cfg.RuntimesManifest.Manifest.ResolveKind(kind)
	if err != nil {
		return nil, fmt.Errorf("--kind %q: %w", kind, err)
	}
	sum := sha256.Sum256([]byte(rk.Kind + "\x00" + jsAction))
	digest := hex.EncodeToString(sum[:8])
	out := make([]actors.Action, len(w.Functions))
	for i, f := range w.Functions {
		out[i] = actors.Action{
			Namespace: benchNamespace, Name: f.Name, Version: "0.0.1", Digest: digest,
			Kind: rk.Kind, Image: rk.Image, Main: "main", Code: jsAction,
			Limits: actors.ActionLimits{
				Memory: config.ByteSize(f.MemoryMB) * config.MB, Timeout: timeout,
				MaxConcurrency: 1, Logs: config.MB,
			},
		}
	}
	return out, nil
}

// newPoolTarget spawns the pool on fac. It owns fac from then on: closeFac
// runs after the pool has shut down.
func newPoolTarget(cfg *config.Config, fac factory.ContainerFactory, closeFac func() error, kind string, w *workload.Workload,
	timeout time.Duration, log zerolog.Logger, name string) (*poolTarget, error) {
	acts, err := poolActions(cfg, kind, w, timeout)
	if err != nil {
		return nil, errors.Join(err, closeFac())
	}
	sys := actors.NewSystem(log)
	reg := prometheus.NewRegistry()
	p, err := pool.Spawn(sys.Root, pool.Options{Config: cfg, Factory: fac, Log: log, Registerer: reg, Name: name})
	if err != nil {
		sys.Shutdown()
		return nil, errors.Join(err, closeFac())
	}
	return &poolTarget{sys: sys, pool: p, reg: reg, actions: acts, prefix: name + "-", closeFn: closeFac}, nil
}

func (t *poolTarget) invoke(ctx context.Context, i int, a workload.Arrival) outcome {
	act := pool.Activation{
		ID:                  t.prefix + strconv.Itoa(i),
		InvocationNamespace: benchNamespace,
		Action:              t.actions[a.Function],
		Params:              execParams(a.Exec),
	}
	res, err := t.pool.Invoke(ctx, act)
	if err != nil {
		if ctx.Err() != nil {
			return outcome{Status: statusTimeout}
		}
		return outcome{Status: statusRejected}
	}
	return outcome{StartKind: string(res.StartKind), Status: statusName(res.Status), Wait: res.WaitTime}
}

func (t *poolTarget) memory(ctx context.Context) (report.MemoryPoint, bool) {
	s, err := t.pool.Snapshot(ctx)
	if err != nil {
		return report.MemoryPoint{}, false
	}
	return memoryPoint(s), true
}

func memoryPoint(s actors.MemorySnapshot) report.MemoryPoint {
	return report.MemoryPoint{
		InUseMB:     (s.Total - s.Free).MiB(),
		BusyMB:      s.Busy.Memory.MiB(),
		IdleMB:      s.Idle.Memory.MiB(),
		PrewarmedMB: s.Prewarmed.Memory.MiB(),
	}
}

func (t *poolTarget) evictions(context.Context) (int, error) {
	return sim.Counter(t.reg, "stemcell_pool_evictions_total")
}

func (t *poolTarget) close(ctx context.Context) error {
	err := t.pool.Shutdown(ctx)
	t.sys.Shutdown()
	return errors.Join(err, t.closeFn())
}

// execParams is the activation's parameters: how long to run.
func execParams(d time.Duration) []byte {
	b := append(make([]byte, 0, 32), `{"exec_ms":`...)
	b = strconv.AppendFloat(b, float64(d)/float64(time.Millisecond), 'f', 3, 64)
	return append(b, '}')
}

var statusNames = [...]string{"success", "application error", "developer error", "internal error"}

func statusName(s factory.Status) string {
	if s >= 0 && int(s) < len(statusNames) {
		return statusNames[s]
	}
	return "status " + strconv.Itoa(int(s))
}
