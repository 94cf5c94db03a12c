package pool

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/stemcell-io/stemcell/actors"
)

// ErrPoolStopped answers an activation submitted to a pool actor that no
// longer runs.
var ErrPoolStopped = errors.New("the pool is not running")

// Submit hands a to the pool and returns at once. Its one answer arrives
// on the returned channel, which keeps it until read: the caller may wait
// with a deadline, stop waiting, and still read it later from another
// goroutine, so no result is lost to an impatient caller. A RunResult with
// Err means the pool did not run a (shutting down, buffer full, invalid,
// stopped).
//
// The answer is handed over by the goroutine that produced it, straight to
// the one waiting on the channel: a future would add a hop, and Invoke
// with a cancellable context one more.
func (p *Pool) Submit(a Activation) <-chan *actors.RunResult {
	ch, _ := p.submit(a, false)
	return ch
}

// Enqueue hands a to the pool and returns once the pool has accepted it,
// placed or buffered: nil, and the channel on which its one result will
// arrive, as with Submit. Otherwise it returns the pool's refusal
// (actors.ErrBufferFull, actors.ErrShuttingDown, ...) or ctx's error; after
// ctx's error the activation may still have been accepted, and its result
// still arrives on the channel. It costs one message more than Submit: a
// caller that must not promise an activation it may not get (a non-blocking
// invoke's 202) waits for it.
func (p *Pool) Enqueue(ctx context.Context, a Activation) (<-chan *actors.RunResult, error) {
	ch, queued := p.submit(a, true)
	select {
	case <-queued:
		return ch, nil
	case rr := <-ch:
		if rr.Err != nil {
			return ch, rr.Err
		}
		// Finished before the acknowledgement was seen: hand it on.
		again := make(chan *actors.RunResult, 1)
		again <- rr
		return again, nil
	case <-ctx.Done():
		return ch, fmt.Errorf("enqueue activation %s: %w", a.ID, ctx.Err())
	}
}

func (p *Pool) submit(a Activation, ack bool) (<-chan *actors.RunResult, <-chan struct{}) {
	ch := make(chan *actors.RunResult, 1)
	reg := p.root.ActorSystem().ProcessRegistry
	r := &replyProcess{id: a.ID, ch: ch, reg: reg}
	if ack {
		r.queued = make(chan struct{})
	}
	pid, ok := reg.Add(r, "reply"+reg.NextId())
	if !ok {
		ch <- &actors.RunResult{Result: Result{ActivationID: a.ID}, Err: fmt.Errorf("activation %s: registering its reply process %s failed", a.ID, pid)}
		return ch, r.queued
	}
	p.root.RequestWithCustomSender(p.pid, &actors.Run{Activation: a, AckQueued: ack}, pid)
	return ch, r.queued
}

// Invoke runs a and waits for its result, or until ctx ends. An error means
// the pool did not run a (shutting down, buffer full, invalid) or ctx ended
// first; an activation that ran and failed is a Result with its status.
func (p *Pool) Invoke(ctx context.Context, a Activation) (Result, error) {
	if err := ctx.Err(); err != nil {
		return Result{ActivationID: a.ID}, fmt.Errorf("invoke activation %s: %w", a.ID, err)
	}
	select {
	case rr := <-p.Submit(a):
		if rr.Err != nil {
			return rr.Result, fmt.Errorf("invoke activation %s: %w", a.ID, rr.Err)
		}
		return rr.Result, nil
	case <-ctx.Done():
		return Result{ActivationID: a.ID}, fmt.Errorf("invoke activation %s: %w", a.ID, ctx.Err())
	}
}

// replyProcess receives one activation's answer and puts it on a channel.
type replyProcess struct {
	id   string // the activation's, for an answer the pool could not give
	ch   chan *actors.RunResult
	reg  *actor.ProcessRegistryValue
	once sync.Once
	// queued, with Enqueue, is closed on the pool's *actors.Queued.
	queued     chan struct{}
	queuedOnce sync.Once
}

func (r *replyProcess) SendUserMessage(pid *actor.PID, message any) {
	_, msg, _ := actor.UnwrapEnvelope(message)
	var rr *actors.RunResult
	switch m := msg.(type) {
	case *actors.RunResult:
		rr = m
	case *actor.DeadLetterResponse:
		rr = &actors.RunResult{Result: Result{ActivationID: r.id}, Err: ErrPoolStopped}
	case *actors.Queued:
		if r.queued != nil {
			r.queuedOnce.Do(func() { close(r.queued) })
		}
		return
	default:
		return
	}
	r.once.Do(func() {
		r.reg.Remove(pid)
		r.ch <- rr
	})
}

func (r *replyProcess) SendSystemMessage(*actor.PID, any) {}

func (r *replyProcess) Stop(pid *actor.PID) { r.reg.Remove(pid) }
