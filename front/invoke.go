package front

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/route"
	"github.com/stemcell-io/stemcell/server"
)

// msgHopped answers a request that a front already forwarded: a receiver
// never forwards again, so a loop (a front registered as an invoker, a
// balancer sending a front's traffic to a front) stops at the first hop.
const msgHopped = "This request was already forwarded by front %q, and front %q does not forward a forwarded request: is a front's address registered as an invoker, or a balancer sending forwarded requests to fronts?"

// outcome is what became of one attempt to forward an invoke.
type outcome int

const (
	// refused: the invoker did not accept the activation (no connection,
	// the request not fully written, 429, 503); another may take it.
	refused outcome = iota
	// answered: the invoker answered; its answer goes to the caller.
	answered
	// lost: the invoker may have accepted the activation and did not
	// answer; it must not be sent anywhere else.
	lost
)

// attempt is one forward to one invoker.
type attempt struct {
	invoker string
	outcome outcome
	status  int
	header  http.Header
	body    []byte
	err     error
}

// Invoke implements server.Forwarder: it places the invoke and forwards it
// to the first candidate that accepts it.
func (f *Front) Invoke(w http.ResponseWriter, r *http.Request, inv server.Invocation) {
	if hop := r.Header.Get(server.HopHeader); hop != "" {
		f.metrics.rejected.WithLabelValues(rejectedHop).Inc()
		server.WriteError(w, r, http.StatusLoopDetected, fmt.Sprintf(msgHopped, hop, f.opts.ID))
		return
	}
	if !f.forwards.enter() {
		f.metrics.rejected.WithLabelValues(rejectedStopping).Inc()
		server.WriteError(w, r, http.StatusServiceUnavailable, server.MsgUnavailable)
		return
	}
	defer f.forwards.leave()

	doc := inv.Action
	act := route.Action{Namespace: inv.Namespace, Name: doc.Namespace + "/" + doc.Name, Version: doc.Version}
	mem := config.ByteSize(doc.Limits.Memory) * config.MB
	snap, placement, err := f.place(act, mem)
	if err != nil {
		f.metrics.rejected.WithLabelValues(rejectedNoInvoker).Inc()
		if !errors.Is(err, route.ErrNoInvoker) {
			f.log.Error().Err(err).Str("action", act.String()).Msg("placement refused its input")
		}
		server.WriteError(w, r, http.StatusServiceUnavailable, server.MsgUnavailable+" "+err.Error())
		return
	}
	id := server.NewActivationID()
	// The caller's deadline: candidates are tried until it passes. The
	// answer itself may come up to AnswerMargin later.
	deadline := inv.Arrived.Add(inv.Wait)
	var refusals []attempt
	for i, c := range placement.Candidates {
		if i > 0 && !f.opts.Now().Before(deadline) {
			break
		}
		a := f.forward(r, inv, id, snap.Invokers[c.Index], snap.Addresses[c.Index], mem, deadline, i > 0)
		switch a.outcome {
		case answered:
			f.metrics.forwarded.Inc()
			relay(w, a)
			return
		case lost:
			f.metrics.forwarded.Inc()
			f.answerLost(w, r, inv, id, a)
			return
		}
		refusals = append(refusals, a)
		if i+1 < len(placement.Candidates) {
			f.metrics.retried.Inc()
		}
	}
	f.metrics.rejected.WithLabelValues(rejectedAllRefused).Inc()
	f.answerRefused(w, r, refusals, len(placement.Candidates))
}

// place ranks the invokers of the current snapshot for a, after taking
// the snapshot into the ledger if it is new.
func (f *Front) place(a route.Action, mem config.ByteSize) (*Snapshot, route.Placement, error) {
	snap := f.opts.View.Current()
	f.mu.Lock()
	defer f.mu.Unlock()
	if snap != f.observed {
		present := make(map[string]bool, len(snap.Invokers))
		for _, inv := range snap.Invokers {
			present[inv.ID] = true
			f.ledger.Observed(inv)
		}
		for id := range f.ledger {
			if !present[id] {
				f.ledger.Forget(id)
			}
		}
		f.observed = snap
	}
	p, err := route.Place(a, mem, snap.Invokers, f.ledger, f.opts.Route)
	return snap, p, err
}

func (f *Front) sent(inv route.Invoker, mem config.ByteSize) route.Ticket {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ledger.Sent(inv, mem)
}

func (f *Front) answered(t route.Ticket) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ledger.Answered(t)
}

// forward sends the invoke to one invoker and reads its whole answer:
// an answer cut off half way is a lost invoker, not a partial reply.
func (f *Front) forward(r *http.Request, inv server.Invocation, id string, target route.Invoker, addr string,
	mem config.ByteSize, deadline time.Time, retry bool) attempt {
	a := attempt{invoker: target.ID}
	ticket := f.sent(target, mem)
	defer f.answered(ticket)

	query := r.URL.RawQuery
	if retry && inv.Blocking {
		// The invoker counts its wait from when it gets the request: a
		// retry leaves it only what the caller has left.
		q := r.URL.Query()
		q.Set("timeout", strconv.FormatInt(max(time.Until(deadline).Milliseconds(), 1), 10))
		query = q.Encode()
	}
	url := addr + r.URL.EscapedPath()
	if query != "" {
		url += "?" + query
	}
	ctx, cancel := context.WithDeadline(f.stop, deadline.Add(f.opts.AnswerMargin))
	defer cancel()
	var wrote atomic.Bool
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteRequest: func(i httptrace.WroteRequestInfo) { wrote.Store(i.Err == nil) },
	})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(inv.Body))
	if err != nil {
		a.err = fmt.Errorf("invoker %s at %q: %w", target.ID, addr, err)
		return a
	}
	for _, h := range []string{"Authorization", "Content-Type", "User-Agent"} {
		if v := r.Header.Get(h); v != "" {
			req.Header.Set(h, v)
		}
	}
	req.Header.Set(server.HopHeader, f.opts.ID)
	req.Header.Set(server.HopActivationHeader, id)
	resp, err := f.client.Do(req)
	if err != nil {
		a.err = err
		if wrote.Load() {
			a.outcome = lost
		}
		return a
	}
	a.status, a.header = resp.StatusCode, resp.Header
	a.body, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	switch {
	case err != nil:
		a.err, a.outcome = fmt.Errorf("reading its answer (HTTP %d): %w", resp.StatusCode, err), lost
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable:
		a.outcome = refused
	default:
		a.outcome = answered
	}
	return a
}

// relay passes an invoker's answer on.
func relay(w http.ResponseWriter, a attempt) {
	for _, h := range []string{"Content-Type", server.ActivationHeader, "Retry-After"} {
		if v := a.header.Get(h); v != "" {
			w.Header().Set(h, v)
		}
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(a.body)))
	w.WriteHeader(a.status)
	_, _ = w.Write(a.body)
}
