package prewarm

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/stemcell-io/stemcell/actors"
	"github.com/stemcell-io/stemcell/factory"
)

// lastRef makes stem-cell refs unique in the process, so that a restarted
// scheduler (or a second pool) never reuses a ref the pool still holds.
var lastRef atomic.Uint64

func nextRef() uint64 { return lastRef.Add(1) }

// creation is a stem cell on its way: memory asked, then container created.
type creation struct {
	key     Key
	round   uint64 // the round that started it, to log a refusal once per round
	granted bool   // memory granted, container requested
}

// ready is a stem cell handed to the pool and not yet taken or removed.
type ready struct {
	key        Key
	container  factory.Container
	created    time.Time
	expires    time.Time // zero: never
	healthFail int
	removing   string // non-empty once RemoveStemCell was sent: the reason
}

type scheduler struct {
	opts    Options
	m       *metrics
	cells   []Cell
	byKey   map[Key]*Cell
	thr     Throttle
	pool    *actor.PID
	timers  *actors.Timers
	stopped bool

	queue    []Key
	inFlight map[uint64]*creation
	idle     map[uint64]*ready
	cold     map[Key]int

	failures      int
	lastRound     time.Time
	round         uint64
	refusedLogged uint64 // last round whose refusal was logged
	memRefused    bool

	healthGen    uint64
	healthBusy   bool
	healthDone   uint64 // rounds applied
	healthCancel context.CancelFunc
}

func newScheduler(opts Options, m *metrics) *scheduler {
	return &scheduler{
		opts:     opts,
		m:        m,
		byKey:    map[Key]*Cell{},
		inFlight: map[uint64]*creation{},
		idle:     map[uint64]*ready{},
		cold:     map[Key]int{},
	}
}

// Receive is the actor's entry point.
func (s *scheduler) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *actor.Started:
		s.start(ctx)
	case *actor.Stopping, *actor.Restarting:
		s.stop()
	case *actors.TimerFired:
		if name, ok := msg.Key.(timerName); ok && !s.stopped && s.timers.Fired(msg) {
			s.onTimer(ctx, name)
		}
	case *actors.ReserveMemoryReply:
		s.onReserved(ctx, msg)
	case *actors.ContainerCreated:
		s.onCreated(ctx, msg)
	case *actors.StemCellTaken:
		s.onTaken(ctx, msg)
	case *actors.StemCellRemoved:
		s.onRemoved(ctx, msg)
	case *actors.ColdStart:
		s.onColdStart(msg)
	case *actors.CapacityChanged:
		s.memRefused = false
		s.pump(ctx)
	case *healthRound:
		s.onHealth(ctx, msg)
	case *stateRequest:
		ctx.Respond(s.state())
	}
	if !s.stopped {
		s.publishStock()
	}
}

func (s *scheduler) start(ctx actor.Context) {
	s.pool = s.opts.Pool
	if s.pool == nil {
		s.pool = ctx.Parent()
	}
	s.timers = actors.NewTimers(s.opts.Clock)
	if s.opts.Config == nil || s.opts.Factory == nil {
		s.opts.Log.Error().Bool("config", s.opts.Config != nil).Bool("factory", s.opts.Factory != nil).
			Msg("prewarm scheduler needs a config and a factory; it will create nothing")
		s.stopped = true
		return
	}
	cfg := s.opts.Config
	s.cells = cellsOf(cfg.RuntimesManifest.Manifest)
	for i := range s.cells {
		s.byKey[s.cells[i].Key] = &s.cells[i]
	}
	s.thr = throttleOf(cfg.ContainerPool.PrewarmContainerCreationConfig)
	if len(s.cells) == 0 {
		return
	}
	s.reconcile(TriggerInit)
	s.pump(ctx)
	s.timers.Arm(ctx, timerCheck, cfg.ContainerPool.PrewarmExpirationCheckInitDelay)
	if hc := cfg.ContainerProxy.ActionHealthCheck; hc.Enabled && hc.CheckPeriod > 0 {
		s.timers.Arm(ctx, timerHealth, hc.CheckPeriod)
	}
}

// stop cancels every timer and the health round, and creates nothing more.
func (s *scheduler) stop() {
	s.stopped = true
	if s.timers != nil {
		s.timers.Stop()
	}
	if s.healthCancel != nil {
		s.healthCancel()
	}
}

func (s *scheduler) onTimer(ctx actor.Context, name timerName) {
	switch name {
	case timerCheck:
		s.check(ctx)
	case timerRound:
		s.memRefused = false // a new round may ask again
		s.pump(ctx)
	case timerHealth:
		s.healthTick(ctx)
	}
}

// current counts the stem cells of k that are ready (and not being
// removed), being created or queued.
func (s *scheduler) current(k Key) int {
	n := 0
	for _, r := range s.idle {
		if r.key == k && r.removing == "" {
			n++
		}
	}
	for _, c := range s.inFlight {
		if c.key == k {
			n++
		}
	}
	for _, q := range s.queue {
		if q == k {
			n++
		}
	}
	return n
}

func (s *scheduler) retryStopped() bool {
	limit := s.opts.Config.ContainerPool.PrewarmMaxRetryLimit
	return limit > 0 && s.failures >= limit
}

// reconcile queues the creations that bring every cell to its desired count.
func (s *scheduler) reconcile(trigger Trigger) {
	if s.stopped || s.retryStopped() {
		return
	}
	for i := range s.cells {
		c := &s.cells[i]
		cur := s.current(c.Key)
		desired := Desired(*c, trigger, s.cold[c.Key])
		n := Missing(desired, cur)
		if n == 0 {
			continue
		}
		s.opts.Log.Info().Str("kind", c.Kind).Int64("memory_mb", int64(c.Memory>>20)).
			Int("current", cur).Int("desired", desired).Str("trigger", trigger.String()).
			Msgf("found %d stem cells; queueing %d to desired count: %d", cur, n, desired)
		for range n {
			s.queue = append(s.queue, c.Key)
		}
	}
}

// pump starts as many queued creations as the round decision allows.
func (s *scheduler) pump(ctx actor.Context) {
	if s.stopped {
		return
	}
	now := s.opts.Clock.Now()
	plan := PlanRound(s.thr, RoundInput{
		Queued:        len(s.queue),
		InFlight:      len(s.inFlight),
		Now:           now,
		LastRound:     s.lastRound,
		MemoryRefused: s.memRefused,
		Failures:      s.failures,
		RetryLimit:    s.opts.Config.ContainerPool.PrewarmMaxRetryLimit,
	})
	if !plan.WakeAt.IsZero() {
		s.timers.ArmBy(ctx, timerRound, plan.WakeAt)
	}
	if plan.Start == 0 {
		return
	}
	s.round++
	s.lastRound = now
	for range plan.Start {
		k := s.queue[0]
		s.queue = s.queue[1:]
		ref := nextRef()
		s.inFlight[ref] = &creation{key: k, round: s.round}
		ctx.Request(s.pool, &actors.ReserveMemory{Ref: ref, Kind: k.Kind, Memory: k.Memory})
	}
}

func (s *scheduler) onColdStart(msg *actors.ColdStart) {
	k := Key{Kind: msg.Kind, Memory: msg.Memory}
	if _, ok := s.byKey[k]; !ok {
		return
	}
	s.cold[k]++
	s.m.forKey(s.m.coldStarts, k).Inc()
}

func (s *scheduler) onTaken(ctx actor.Context, msg *actors.StemCellTaken) {
	if _, ok := s.idle[msg.Ref]; !ok {
		return
	}
	delete(s.idle, msg.Ref)
	s.reconcile(TriggerBackfill)
	s.pump(ctx)
}

func (s *scheduler) onRemoved(ctx actor.Context, msg *actors.StemCellRemoved) {
	r, ok := s.idle[msg.Ref]
	if !ok {
		return
	}
	delete(s.idle, msg.Ref)
	// Its memory is back in the pool.
	s.memRefused = false
	// An expired stem cell was replaced by the check that removed it; the
	// pool's Replace=false (eviction, shutdown) must not be fought.
	if msg.Replace || r.removing == reasonUnhealthy {
		s.reconcile(TriggerBackfill)
	}
	s.pump(ctx)
}

// check is the scheduled expiry check: reset the retry counter, remove
// expired stem cells, size reactive cells from the cold starts, backfill,
// and arm the next check.
func (s *scheduler) check(ctx actor.Context) {
	cfg := s.opts.Config.ContainerPool
	now := s.opts.Clock.Now()
	s.failures = 0
	s.memRefused = false
	s.expire(ctx, now, cfg.PrewarmExpirationLimit)
	s.reconcile(TriggerCheck)
	clear(s.cold)
	s.pump(ctx)
	s.timers.Arm(ctx, timerCheck, NextCheckDelay(cfg.PrewarmExpirationCheckInterval, cfg.PrewarmExpirationCheckIntervalVariance, s.opts.Rand))
}

const (
	reasonExpired   = "expired"
	reasonUnhealthy = "unhealthy"
)

func (s *scheduler) expire(ctx actor.Context, now time.Time, limit int) {
	var idle []Idle
	for ref, r := range s.idle {
		if r.removing == "" {
			idle = append(idle, Idle{Ref: ref, Key: r.key, Expires: r.expires})
		}
	}
	gone := Expired(idle, now, limit)
	if len(gone) == 0 {
		return
	}
	s.opts.Log.Info().Int("limit", limit).Int("removing", len(gone)).Msg("removing expired stem cells")
	for _, e := range gone {
		s.idle[e.Ref].removing = reasonExpired
		s.m.forKey(s.m.expiries, e.Key).Inc()
		ctx.Send(s.pool, &actors.RemoveStemCell{Ref: e.Ref, Reason: reasonExpired})
	}
}

// publishStock refreshes the stock gauges; the stock is small (tens of
// stem cells), so recounting is cheaper than keeping counts in step.
func (s *scheduler) publishStock() {
	type counts struct{ ready, creating, queued int }
	by := make(map[Key]*counts, len(s.cells))
	for _, c := range s.cells {
		by[c.Key] = &counts{}
	}
	for _, r := range s.idle {
		if c, ok := by[r.key]; ok && r.removing == "" {
			c.ready++
		}
	}
	for _, cr := range s.inFlight {
		if c, ok := by[cr.key]; ok {
			c.creating++
		}
	}
	for _, k := range s.queue {
		if c, ok := by[k]; ok {
			c.queued++
		}
	}
	for k, c := range by {
		s.m.setStock(k, stateReady, c.ready)
		s.m.setStock(k, stateCreating, c.creating)
		s.m.setStock(k, stateQueued, c.queued)
	}
	s.m.queueLength.Set(float64(len(s.queue)))
	if s.retryStopped() {
		s.m.retryStopped.Set(1)
	} else {
		s.m.retryStopped.Set(0)
	}
}
