package server

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/rs/zerolog/hlog"

	"github.com/stemcell-io/stemcell/actors"
	"github.com/stemcell-io/stemcell/factory"
	"github.com/stemcell-io/stemcell/store"
)

// activationHeader carries the id on every invoke outcome.
const activationHeader = "x-openwhisk-activation-id"

// retryAfter is the Retry-After of a 429, in seconds: activations of the
// default limits finish well within it.
const retryAfter = "1"

// newActivationID returns 32 lowercase hex characters.
func newActivationID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// decodeArgs parses an invoke body: a JSON object, or empty for {}. A key
// given twice is refused, as in every body the API reads: which of the two
// values an action would see is not something a client should guess.
func decodeArgs(body []byte) (map[string]json.RawMessage, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, nil
	}
	var args map[string]json.RawMessage
	if err := decodeUniqueJSON(body, &args); err != nil {
		return nil, err
	}
	return args, nil
}

// invocationParams returns what the action gets as its parameters: the
// body's arguments over the action's default parameters. Without defaults
// a valid object body goes as it is (the /run encoder compacts it), which
// spares a decode and an encode on every invoke; anything else takes the
// full path, with its precise errors.
func invocationParams(body []byte, defaults map[string]json.RawMessage, final bool) (json.RawMessage, error) {
	if len(defaults) == 0 {
		if b := bytes.TrimSpace(body); len(b) > 0 && b[0] == '{' && json.Valid(b) {
			if _, _, dup := duplicateKey(b); !dup {
				return b, nil
			}
		}
	}
	args, err := decodeArgs(body)
	if err != nil {
		return nil, err
	}
	return mergeArgs(defaults, args, final)
}

// mergeArgs overlays the invocation's arguments on the action's default
// parameters. With final, an argument may not replace a non-null default.
func mergeArgs(defaults, args map[string]json.RawMessage, final bool) (json.RawMessage, error) {
	if final {
		for k := range args {
			if v, ok := defaults[k]; ok && string(v) != "null" {
				return nil, errorf(http.StatusBadRequest, "%s", msgFinalParams)
			}
		}
	}
	if len(defaults) == 0 && len(args) == 0 {
		return json.RawMessage("{}"), nil
	}
	merged := make(map[string]json.RawMessage, len(defaults)+len(args))
	for k, v := range defaults {
		merged[k] = v
	}
	for k, v := range args {
		merged[k] = v
	}
	return json.Marshal(merged)
}

// invokeQuery reads an invoke's blocking, result and timeout parameters:
// how long a blocking caller waits is blocking-wait, or timeout if lower.
func (s *Server) invokeQuery(r *http.Request) (blocking, resultOnly bool, wait time.Duration, err error) {
	q := r.URL.Query()
	if blocking, err = parseBool(q, "blocking"); err != nil {
		return false, false, 0, err
	}
	if resultOnly, err = parseBool(q, "result"); err != nil {
		return false, false, 0, err
	}
	wait = s.scfg.BlockingWait
	if t := q.Get("timeout"); t != "" {
		n, err := strconv.ParseInt(t, 10, 64)
		if err != nil || n < 1 || n > wait.Milliseconds() {
			return false, false, 0, errorf(http.StatusBadRequest, msgTimeoutParam, wait.Milliseconds())
		}
		wait = time.Duration(n) * time.Millisecond
	}
	return blocking, resultOnly, wait, nil
}

func (s *Server) invoke(w http.ResponseWriter, r *http.Request, id *Identity, ns string, p actionPath) {
	blocking, resultOnly, wait, err := s.invokeQuery(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	ticket, refused, reason := s.admit.acquire(ns)
	if refused != nil {
		s.refuse(w, r, refused, reason)
		return
	}
	act, run, err := s.prepareActivation(r, id, ns, p)
	if err != nil {
		ticket.release()
		writeError(w, r, err)
		return
	}
	act.LogsAfterResult = blocking
	inv := &invocation{act: act, run: run, id: id, log: hlog.FromRequest(r), ticket: ticket}
	if blocking {
		s.invokeBlocking(w, r, inv, wait, resultOnly)
		return
	}
	results, ok := s.enqueue(w, r, inv)
	if !ok {
		return
	}
	s.workers.Add(1)
	w.Header().Set(activationHeader, act.ID)
	// Queued, so it runs whatever comes next: the id goes out after the
	// pending record a restart would find. A failed write is logged and the
	// final record still follows.
	s.putPending(inv)
	go s.finish(inv, results)
	writeJSON(w, http.StatusAccepted, map[string]string{"activationId": act.ID})
}

// invokeBlocking runs a blocking invoke: its result, or 202 with the id
// after wait. It submits without waiting for the pool's acknowledgement: a
// refusal comes back as the result, at once.
func (s *Server) invokeBlocking(w http.ResponseWriter, r *http.Request, inv *invocation, wait time.Duration, resultOnly bool) {
	act := inv.act
	results := s.inv.Submit(act)
	s.workers.Add(1)
	w.Header().Set(activationHeader, act.ID)
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case rr := <-results:
		if rr != nil && s.refusal(rr.Err) != nil {
			// Refused without a record.
			s.drop(inv)
			w.Header().Del(activationHeader)
			s.answerRefusal(w, r, rr.Err)
			return
		}
		s.answerBlocking(w, inv, rr, resultOnly)
	case <-s.stop.Done():
		s.answerBlocking(w, inv, nil, resultOnly)
	case <-timer.C:
		s.putPending(inv)
		go s.finish(inv, results)
		writeJSON(w, http.StatusAccepted, map[string]string{"activationId": act.ID})
	case <-r.Context().Done():
		// The client left; the activation goes on and must not get lost.
		s.putPending(inv)
		go s.finish(inv, results)
	}
}

// prepareActivation checks the body and the action and builds the
// activation.
func (s *Server) prepareActivation(r *http.Request, id *Identity, ns string, p actionPath) (actors.Activation, *runnable, error) {
	body, err := readBody(r, s.cfg.Limits.Payload.Max.Bytes())
	if err != nil {
		return actors.Activation{}, nil, err
	}
	run, err := s.runnable(ns, p)
	if err != nil {
		return actors.Activation{}, nil, err
	}
	if err := s.kindGone(run); err != nil {
		return actors.Activation{}, nil, err
	}
	params, err := invocationParams(body, run.params, run.final)
	if err != nil {
		return actors.Activation{}, nil, err
	}
	act := actors.Activation{
		ID: s.activationID(r), TransactionID: requestID(r), InvocationNamespace: ns,
		Action: run.action, Params: params, InitEnv: run.initEnv, Arrived: s.now(),
	}
	if run.provideKey {
		act.APIKey = id.UUID + ":" + id.Key
	}
	return act, run, nil
}

// pendingRecord is what a restart finds of an activation that never
// finished.
func (s *Server) pendingRecord(act actors.Activation, run *runnable, id *Identity) *store.Activation {
	return &store.Activation{
		Namespace: act.InvocationNamespace, Name: run.doc.Name, Version: run.doc.Version,
		Subject: id.Subject(), ActivationID: act.ID, Start: act.Arrived.UnixMilli(),
		Logs: []string{},
		Annotations: []store.KeyValue{
			{Key: "path", Value: run.pathAnn},
			{Key: "kind", Value: run.kindAnn},
			{Key: "limits", Value: run.limitsAnn},
		},
	}
}

// finalRecord builds the activation record from the pool's result.
func (s *Server) finalRecord(act actors.Activation, run *runnable, id *Identity, res actors.Result, err error) *store.Activation {
	rec := s.pendingRecord(act, run, id)
	if err != nil {
		msg := "The invoker could not run the activation: " + err.Error()
		if s.stop.Err() != nil {
			msg = store.MsgStopped
		}
		body, _ := json.Marshal(map[string]string{"error": msg})
		res = actors.Result{Status: factory.StatusInternalError, Response: body}
	}
	start, end := res.Start, res.End
	if start.IsZero() {
		start = act.Arrived
	}
	if end.IsZero() || end.Before(start) {
		end = s.now()
	}
	rec.Start, rec.End = start.UnixMilli(), end.UnixMilli()
	rec.Duration = rec.End - rec.Start
	result := res.Response
	if len(result) == 0 || !json.Valid(result) {
		result = json.RawMessage("{}")
	}
	size := len(result)
	code := int(res.Status)
	rec.Response = store.Response{Status: store.StatusName(code), Success: code == 0, Result: result, Size: &size}
	if len(res.Logs) > 0 {
		rec.Logs = res.Logs
	}
	timedOut := json.RawMessage("false")
	if res.TimedOut {
		timedOut = json.RawMessage("true")
	}
	rec.Annotations = append(rec.Annotations,
		store.KeyValue{Key: "waitTime", Value: msJSON(res.WaitTime)},
		store.KeyValue{Key: "timeout", Value: timedOut},
	)
	if res.InitTime > 0 {
		rec.Annotations = append(rec.Annotations, store.KeyValue{Key: "initTime", Value: msJSON(res.InitTime)})
	}
	// OpenWhisk's initTime cannot tell a cold start from a stem cell's;
	// ours can. Absent when no container was placed (refused, shut down).
	if res.StartKind != "" {
		kind, _ := json.Marshal(string(res.StartKind)) // a string always marshals
		rec.Annotations = append(rec.Annotations, store.KeyValue{Key: "startKind", Value: kind})
	}
	return rec
}

func msJSON(d time.Duration) json.RawMessage {
	return json.RawMessage(strconv.FormatInt(d.Milliseconds(), 10))
}

// answerBlocking answers a blocking invoke and then records it: net/http
// would send the answer only once the handler returned, after the
// record's bookkeeping, so it is flushed first.
func (s *Server) answerBlocking(w http.ResponseWriter, inv *invocation, rr *actors.RunResult, resultOnly bool) {
	ans, record := s.settleBlocking(inv, rr)
	writeAnswer(w, ans, resultOnly)
	_ = http.NewResponseController(w).Flush()
	record()
}

// writeAnswer writes a blocking invoke's record or its result, with
// OpenWhisk's status for the outcome.
func writeAnswer(w http.ResponseWriter, rec *store.Activation, resultOnly bool) {
	status := http.StatusOK
	switch store.StatusCode(rec.Response.Status) {
	case 1, 2:
		status = http.StatusBadGateway
	case 3:
		status = http.StatusInternalServerError
	}
	res := bytes.TrimSpace(rec.Response.Result)
	if resultOnly || (len(res) > 0 && res[0] == '[') {
		writeRaw(w, status, res)
		return
	}
	writeJSON(w, status, rec)
}
