package runtime

import (
	"context"
	"errors"
	"math"
	"time"

	"github.com/dop251/goja"
)

// eventLoop gives one goja runtime setTimeout and clearTimeout: all a
// Promise-returning action needs to wait. Promise reactions themselves run
// in goja's job queue, which goja drains when each call from Go returns.
// Like the runtime it belongs to, an eventLoop is used by one goroutine.
type eventLoop struct {
	rt     *goja.Runtime
	nextID int64
	timers map[int64]*timer
}

type timer struct {
	id   int64
	due  time.Time
	fn   goja.Callable
	args []goja.Value
}

func newEventLoop(rt *goja.Runtime) *eventLoop {
	return &eventLoop{rt: rt, timers: make(map[int64]*timer)}
}

// install defines setTimeout and clearTimeout on the runtime's global object.
func (l *eventLoop) install() error {
	return errors.Join(
		l.rt.Set("setTimeout", l.setTimeout),
		l.rt.Set("clearTimeout", l.clearTimeout),
	)
}

func (l *eventLoop) setTimeout(call goja.FunctionCall) goja.Value {
	fn, ok := goja.AssertFunction(call.Argument(0))
	if !ok {
		panic(l.rt.NewTypeError("setTimeout: the callback must be a function, got %s", call.Argument(0).String()))
	}
	delay := call.Argument(1).ToFloat()
	if math.IsNaN(delay) || delay < 0 {
		delay = 0
	}
	var args []goja.Value
	if len(call.Arguments) > 2 {
		args = append(args, call.Arguments[2:]...)
	}
	l.nextID++
	t := &timer{id: l.nextID, due: time.Now().Add(time.Duration(delay * float64(time.Millisecond))), fn: fn, args: args}
	l.timers[t.id] = t
	return l.rt.ToValue(t.id)
}

func (l *eventLoop) clearTimeout(call goja.FunctionCall) goja.Value {
	delete(l.timers, call.Argument(0).ToInteger())
	return goja.Undefined()
}

// await fires timers in due order until p settles. It returns an exception
// thrown by a timer callback or ctx's error. A Promise with no timer left
// to settle it waits for ctx to end, as Node waits for the time limit.
func (l *eventLoop) await(ctx context.Context, p *goja.Promise) error {
	for p.State() == goja.PromiseStatePending {
		t := l.earliest()
		if t == nil {
			<-ctx.Done()
			return ctx.Err()
		}
		if d := time.Until(t.due); d > 0 {
			wait := time.NewTimer(d)
			select {
			case <-wait.C:
			case <-ctx.Done():
				wait.Stop()
				return ctx.Err()
			}
		}
		delete(l.timers, t.id)
		if _, err := t.fn(goja.Undefined(), t.args...); err != nil {
			return err
		}
	}
	return nil
}

// earliest returns the timer due first, ties broken by creation order.
func (l *eventLoop) earliest() *timer {
	var first *timer
	for _, t := range l.timers {
		if first == nil || t.due.Before(first.due) || (t.due.Equal(first.due) && t.id < first.id) {
			first = t
		}
	}
	return first
}

// reset drops the timers an activation left behind, so they cannot fire
// during the next activation on this runtime.
func (l *eventLoop) reset() { clear(l.timers) }
