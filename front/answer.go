package front

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/stemcell-io/stemcell/server"
	"github.com/stemcell-io/stemcell/store"
)

// answerLost answers, exactly once, an invoke whose invoker was lost after
// it may have accepted it: OpenWhisk's whisk internal error, recorded in
// the front's store so that GET /activations/{id} finds it. It is never
// sent elsewhere: the lost invoker may have run it.
func (f *Front) answerLost(w http.ResponseWriter, r *http.Request, inv server.Invocation, id string, a attempt) {
	f.metrics.lost.Inc()
	rec := f.lostRecord(inv, id, a)
	f.log.Warn().Err(a.err).Str("activation_id", id).Str("invoker", a.invoker).
		Str("namespace", inv.Namespace).Str("action", inv.Path).Msg("invoker lost after it may have accepted the activation")
	// Readers see the record once Complete returned; the answer waits for
	// the commit too, so a record the caller was told of survives a crash.
	if err := <-f.opts.Store.Complete(rec); err != nil {
		f.log.Error().Err(err).Str("activation_id", id).Msg("recording a lost activation")
	}
	w.Header().Set(server.ActivationHeader, id)
	if inv.Blocking {
		server.WriteOutcome(w, rec, inv.ResultOnly)
		return
	}
	// The invoker's 202 never came: the caller gets the id it would have
	// had, and the record says what became of it.
	writeJSON(w, http.StatusAccepted, map[string]string{"activationId": id})
}

// lostRecord is the internal-error record of a lost activation, shaped as
// an invoker's record of the same action.
func (f *Front) lostRecord(inv server.Invocation, id string, a attempt) *store.Activation {
	doc := inv.Action
	msg := fmt.Sprintf("The activation's invoker %s was lost after it may have accepted the activation (%v); front %s answers for it, and did not send it elsewhere, so it ran at most once.",
		a.invoker, a.err, f.opts.ID)
	result, _ := json.Marshal(map[string]string{"error": msg}) // strings always marshal
	size := len(result)
	end := f.opts.Now()
	limits, _ := json.Marshal(doc.Limits)
	str := func(s string) json.RawMessage { b, _ := json.Marshal(s); return b }
	return &store.Activation{
		Namespace: inv.Namespace, Name: doc.Name, Version: doc.Version, Subject: inv.Identity.Subject(),
		ActivationID: id, Start: inv.Arrived.UnixMilli(), End: end.UnixMilli(),
		Duration: end.UnixMilli() - inv.Arrived.UnixMilli(),
		Response: store.Response{Status: store.StatusName(3), Success: false, Result: result, Size: &size},
		Logs:     []string{},
		Annotations: []store.KeyValue{
			{Key: "path", Value: str(doc.Namespace + "/" + doc.Name)},
			{Key: "kind", Value: str(doc.Exec.Kind)},
			{Key: "limits", Value: limits},
			{Key: "lostInvoker", Value: str(a.invoker)},
		},
	}
}

// answerRefused answers an invoke that no invoker accepted, as OpenWhisk
// would: 429 if some invoker was too busy for it (the caller should slow
// down), else 503, with every refusal named.
func (f *Front) answerRefused(w http.ResponseWriter, r *http.Request, refusals []attempt, candidates int) {
	status, msg := http.StatusServiceUnavailable, server.MsgUnavailable
	for _, a := range refusals {
		if a.status == http.StatusTooManyRequests {
			status, msg = http.StatusTooManyRequests, invokerMessage(a.body, "Too many requests.")
			break
		}
	}
	parts := make([]string, len(refusals))
	for i, a := range refusals {
		switch {
		case a.err != nil:
			parts[i] = fmt.Sprintf("%s: %v", a.invoker, a.err)
		default:
			parts[i] = fmt.Sprintf("%s: HTTP %d %s", a.invoker, a.status, invokerMessage(a.body, ""))
		}
	}
	why := fmt.Sprintf(" No invoker accepted the activation: tried %d of %d candidates before the caller's deadline (%s).",
		len(refusals), candidates, strings.Join(parts, "; "))
	server.WriteError(w, r, status, msg+why)
}

// invokerMessage is the error message of an invoker's envelope, or def.
func invokerMessage(body []byte, def string) string {
	var env struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &env) == nil && env.Error != "" {
		return env.Error
	}
	return def
}

// writeJSON answers status with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"`+server.MsgInternal+`","code":""}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
