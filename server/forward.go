package server

import (
	"net/http"
	"time"

	"github.com/stemcell-io/stemcell/store"
)

// Forwarder answers, in a server's place, what a server without a pool
// cannot answer itself: a cluster front places invokes on invokers and
// finds activation records on them. The server still does everything
// else first: it authenticates, resolves "_", refuses a foreign namespace,
// checks names, ids and query parameters, reads the invoke's body and
// looks the action up, with OpenWhisk's errors; the Forwarder gets the
// request checked and writes the answer.
type Forwarder interface {
	Invoke(w http.ResponseWriter, r *http.Request, inv Invocation)
	GetActivation(w http.ResponseWriter, r *http.Request, get ActivationGet)
	ListActivations(w http.ResponseWriter, r *http.Request, list ActivationList)
}

// Invocation is an invoke request, checked.
type Invocation struct {
	Identity  *Identity
	Namespace string // the caller's, resolved ("guest", never "_")
	Path      string // "name" or "pkg/name"
	Action    *store.Action
	Blocking  bool
	// ResultOnly is result=true: a blocking answer is the result alone.
	ResultOnly bool
	// Wait is how long a blocking caller waits: blocking-wait, or the
	// timeout parameter.
	Wait time.Duration
	// Arrived is when the server took the request.
	Arrived time.Time
	// Body is the request's body, within limits.payload.max.
	Body []byte
}

// ActivationGet is a request for a record (Part ""), its result ("result")
// or its logs ("logs"); ID is well-formed.
type ActivationGet struct {
	Namespace, ID, Part string
}

func (s *Server) forwardInvoke(w http.ResponseWriter, r *http.Request, id *Identity, ns string, p actionPath) {
	arrived := s.now()
	blocking, resultOnly, wait, err := s.invokeQuery(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	body, err := readBody(r, s.cfg.Limits.Payload.Max.Bytes())
	if err != nil {
		writeError(w, r, err)
		return
	}
	doc, err := s.docs.GetAction(ns, p.String())
	if err != nil {
		writeError(w, r, notFoundOr(err))
		return
	}
	s.fwd.Invoke(w, r, Invocation{
		Identity: id, Namespace: ns, Path: p.String(), Action: doc, Blocking: blocking,
		ResultOnly: resultOnly, Wait: wait, Arrived: arrived, Body: body,
	})
}

// WriteError answers with OpenWhisk's error envelope, whose code is the
// request's id.
func WriteError(w http.ResponseWriter, r *http.Request, status int, msg string) {
	if status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", retryAfter)
	}
	writeError(w, r, &apiError{status: status, msg: msg})
}

// WriteOutcome answers a blocking invoke with its record, or with its
// result alone (resultOnly), under OpenWhisk's status for the record's
// outcome: 200, 502 for an application or developer error, 500 for a
// whisk internal error.
func WriteOutcome(w http.ResponseWriter, rec *store.Activation, resultOnly bool) {
	writeAnswer(w, rec, resultOnly)
}

// OpenWhisk's messages a front answers with.
const (
	MsgNotFound    = msgNotFound
	MsgUnavailable = msgUnavailable
	MsgInternal    = msgInternal
)

// ActivationHeader is the response header that carries an invoke's
// activation id.
const ActivationHeader = activationHeader
