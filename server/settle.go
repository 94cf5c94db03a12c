package server

import (
	"errors"
	"time"

	"github.com/rs/zerolog"

	"github.com/stemcell-io/stemcell/actors"
	"github.com/stemcell-io/stemcell/factory"
	"github.com/stemcell-io/stemcell/store"
)

// invocation is an accepted activation on its way to its record. Every
// one the pool accepted ends in keep, exactly once, which stores the record
// and gives back its admission and its place in WaitIdle; one refused
// without a record ends in drop instead.
type invocation struct {
	act    actors.Activation
	run    *runnable
	id     *Identity
	log    *zerolog.Logger // the request's, with its request id
	ticket *ticket         // its place in its namespace's admission
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

// settleBlocking turns a blocking invoke's answer into what its caller
// gets, the record as soon as the action answered, before the logs are
// collected (OpenWhisk's ResultMessage), so with "logs" empty; and into
// record, which stores the whole record and must run once the caller has
// its answer: the answer goes out first, the disk, the log line and the
// late logs after. The promise makes reads wait for the record (logs
// included) from the moment the answer exists. rr nil means the daemon
// gave up on the activation.
func (s *Server) settleBlocking(inv *invocation, rr *actors.RunResult) (answer *store.Activation, record func()) {
	rec, res, err := s.finalOf(inv, rr)
	ans := *rec
	ans.Logs = []string{}
	promise := s.store.Promise()
	return &ans, func() {
		s.logFinished(inv, rec, res, err)
		if res.LateLogs == nil {
			s.keep(inv, rec, nil, promise)
		} else {
			go s.keep(inv, rec, res.LateLogs, promise)
		}
	}
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
	s.keep(inv, rec, late, nil)
}

// settle turns the pool's answer into the activation's record; late, when
// not nil, delivers the logs that follow the result.
func (s *Server) settle(inv *invocation, rr *actors.RunResult) (*store.Activation, <-chan []string) {
	rec, res, err := s.finalOf(inv, rr)
	s.logFinished(inv, rec, res, err)
	return rec, res.LateLogs
}

// finalOf builds the activation's record from the pool's answer.
func (s *Server) finalOf(inv *invocation, rr *actors.RunResult) (*store.Activation, actors.Result, error) {
	var res actors.Result
	err := errStopped
	if rr != nil {
		res, err = rr.Result, rr.Err
	}
	return s.finalRecord(inv.act, inv.run, inv.id, res, err), res, err
}

// logFinished counts the activation and writes its log line.
func (s *Server) logFinished(inv *invocation, rec *store.Activation, res actors.Result, err error) {
	s.metrics.activations.WithLabelValues(rec.Response.Status).Inc()
	ev := inv.log.Info()
	if err != nil {
		ev = inv.log.Error().Err(err)
	}
	inv.event(ev).Str("status", rec.Response.Status).Int64("duration_ms", rec.Duration).
		Str("start", string(res.StartKind)).Msg("activation finished")
}

// keep stores rec, after its late logs when they follow, keeping promise
// if there is one, and ends the activation.
func (s *Server) keep(inv *invocation, rec *store.Activation, late <-chan []string, promise *store.Promise) {
	defer s.workers.Done()
	defer inv.ticket.release()
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
		// The daemon gave up on the activation; the line is a log line
		// like the others.
		return []string{factory.FormatLogLine(time.Now(), "stderr", factory.MsgLogsIncomplete)}
	}
}
