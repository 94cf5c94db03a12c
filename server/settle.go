package server

import (
	"errors"

	"github.com/rs/zerolog"

	"github.com/stemcell-io/stemcell/actors"
	"github.com/stemcell-io/stemcell/factory"
	"github.com/stemcell-io/stemcell/store"
)

// invocation is an accepted activation on its way to its record. Every
// one ends in keep, exactly once, which stores the record and gives back
// its admission and its place in WaitIdle.
type invocation struct {
	act actors.Activation
	run *runnable
	id  *Identity
	log *zerolog.Logger // the request's, with its request id
}

// event adds the activation's names to a log event of the request; a
// disabled level costs nothing.
func (inv *invocation) event(ev *zerolog.Event) *zerolog.Event {
	return ev.Str("activation_id", inv.act.ID).Str("namespace", inv.act.InvocationNamespace).
		Str("action", inv.run.doc.Namespace+"/"+inv.run.doc.Name)
}

// putPending records an activation whose caller stops waiting for it, so
// that a restart finds it.
func (s *Server) putPending(inv *invocation) {
	if err := s.store.PutPending(s.pendingRecord(inv.act, inv.run, inv.id)); err != nil {
		inv.event(inv.log.Error()).Err(err).Msg("recording a pending activation failed")
	}
}

// settleBlocking records a blocking invoke's answer and returns what its
// caller gets: the record as soon as the action answered, before the logs
// are collected (OpenWhisk's ResultMessage), so with "logs" empty. The
// stored record has them; reads wait for it (store.Promise). rr nil means
// the daemon gave up on the activation.
func (s *Server) settleBlocking(inv *invocation, rr *actors.RunResult) *store.Activation {
	rec, late := s.settle(inv, rr)
	answer := *rec
	answer.Logs = []string{}
	if late == nil {
		s.keep(rec, nil, nil)
	} else {
		go s.keep(rec, late, s.store.Promise())
	}
	return &answer
}

// finish waits for an activation nobody waits for any more (non-blocking,
// past the blocking wait, or its client left) and records it.
func (s *Server) finish(inv *invocation, results <-chan *actors.RunResult) {
	var rr *actors.RunResult
	select {
	case rr = <-results:
	case <-s.stop.Done():
	}
	rec, late := s.settle(inv, rr)
	s.keep(rec, late, nil)
}

// settle turns the pool's answer into the activation's record; late, when
// not nil, delivers the logs that follow the result.
func (s *Server) settle(inv *invocation, rr *actors.RunResult) (*store.Activation, <-chan []string) {
	var res actors.Result
	err := errStopped
	if rr != nil {
		res, err = rr.Result, rr.Err
	}
	rec := s.finalRecord(inv.act, inv.run, inv.id, res, err)
	s.metrics.activations.WithLabelValues(rec.Response.Status).Inc()
	ev := inv.log.Info()
	if err != nil {
		ev = inv.log.Error().Err(err)
	}
	inv.event(ev).Str("status", rec.Response.Status).Int64("duration_ms", rec.Duration).
		Str("start", string(res.StartKind)).Msg("activation finished")
	return rec, res.LateLogs
}

// keep stores rec, after its late logs when they follow, keeping promise
// if there is one, and ends the activation.
func (s *Server) keep(rec *store.Activation, late <-chan []string, promise *store.Promise) {
	defer s.workers.Done()
	defer s.admit.release()
	if late != nil {
		rec.Logs = s.lateLogs(late)
	}
	if promise != nil {
		promise.Keep(rec)
		return
	}
	s.store.Complete(rec)
}

// errStopped stands for the answer of an activation the daemon gave up on
// (finalRecord words it store.MsgStopped).
var errStopped = errors.New("the invoker stopped before the activation finished")

// lateLogs waits for the logs that follow a result.
func (s *Server) lateLogs(late <-chan []string) []string {
	select {
	case logs := <-late:
		if logs == nil {
			return []string{}
		}
		return logs
	case <-s.stop.Done():
		return []string{factory.MsgLogsIncomplete} // the daemon gave up on the activation
	}
}
