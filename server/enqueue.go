package server

import (
	"context"
	"errors"
	"net/http"

	"github.com/stemcell-io/stemcell/actors"
)

// msgQueueFull is ours: OpenWhisk's buffer has no bound.
const msgQueueFull = "The invoker's queue is full: %d activations wait (container-pool.buffer-size); try again later."

// enqueue hands inv to the pool and returns once the pool has accepted it
// (placed or buffered), with the channel of its one result. A refusal that
// leaves no record is answered here and gives back inv's admission: the
// buffer full (429) or the pool shutting down (503). Any other refusal (an
// action larger than the pool, ...) is the activation's outcome and gets
// its record like any other, so it comes back as the result.
func (s *Server) enqueue(w http.ResponseWriter, r *http.Request, inv *invocation) (<-chan *actors.RunResult, bool) {
	// Not the request's context: a client that leaves must not make an
	// activation the pool may have accepted go unrecorded.
	results, err := s.inv.Enqueue(s.stop, inv.act)
	switch {
	case err == nil:
		return results, true
	case s.refusal(err) != nil:
		inv.ticket.release()
		s.answerRefusal(w, r, err)
		return nil, false
	case errors.Is(err, context.Canceled) && s.stop.Err() != nil:
		// Abandoned while the pool had it, perhaps: its result may still
		// come, and the daemon's giving up records it otherwise.
		return results, true
	default:
		ch := make(chan *actors.RunResult, 1)
		ch <- &actors.RunResult{Result: actors.Result{ActivationID: inv.act.ID}, Err: err}
		return ch, true
	}
}

// refusal is the answer to a pool refusal that leaves no record: the
// buffer full (429) or the pool shutting down (503); nil for any other
// error, which is the activation's outcome and gets its record.
func (s *Server) refusal(err error) *apiError {
	switch {
	case errors.Is(err, actors.ErrBufferFull):
		return s.queueFull()
	case errors.Is(err, actors.ErrShuttingDown):
		return errorf(http.StatusServiceUnavailable, "%s", msgUnavailable)
	}
	return nil
}

func (s *Server) answerRefusal(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, actors.ErrBufferFull) {
		s.refuse(w, r, s.queueFull(), refusedBufferFull)
		return
	}
	writeError(w, r, s.refusal(err))
}

// drop ends an activation the pool refused after it was admitted, without
// a record.
func (s *Server) drop(inv *invocation) {
	s.workers.Done()
	inv.ticket.release()
}

// queueFull is the answer to an activation the pool's buffer had no room
// for.
func (s *Server) queueFull() *apiError {
	return errorf(http.StatusTooManyRequests, msgQueueFull, s.cfg.ContainerPool.BufferSize)
}

// refuse answers an invoke with a 429 of admission or of the pool's buffer.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, e *apiError, reason string) {
	s.metrics.rejected.WithLabelValues(reason).Inc()
	w.Header().Set("Retry-After", retryAfter)
	writeError(w, r, e)
}
