package front

import (
	"context"
	"errors"

	"github.com/stemcell-io/stemcell/actors"
)

// errNoPool is what the embedded server would get if it ever asked the
// front to run an activation itself: the front forwards every invoke
// (server.Forwarder), so this is a bug if it shows.
var errNoPool = errors.New("a front runs no activation itself: it forwards invokes to invokers")

// noPool is the embedded server's Invoker: it refuses everything.
type noPool struct{}

func (noPool) Enqueue(context.Context, actors.Activation) (<-chan *actors.RunResult, error) {
	return nil, errNoPool
}

func (noPool) Submit(a actors.Activation) <-chan *actors.RunResult {
	ch := make(chan *actors.RunResult, 1)
	ch <- &actors.RunResult{Result: actors.Result{ActivationID: a.ID}, Err: errNoPool}
	return ch
}

func (noPool) Snapshot(context.Context) (actors.MemorySnapshot, error) {
	return actors.MemorySnapshot{}, errNoPool
}
