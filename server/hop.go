package server

import (
	"net/http"

	"github.com/stemcell-io/stemcell/store"
)

// Headers a cluster front adds when it forwards an invoke to an invoker.
// HopHeader names the front; a request that carries it is never forwarded
// again. HopActivationHeader is the activation id the front chose, so that
// the front can answer for an activation whose invoker it loses, under the
// id the invoker would have recorded.
const (
	HopHeader           = "X-Stemcell-Hop"
	HopActivationHeader = "X-Stemcell-Activation-Id"
)

// activationID is the id of a new activation: the one a front chose, when
// the request came through a front with a well-formed id that no record
// holds yet, else a fresh one. A client that sets the headers itself gains
// nothing: it can only name an id that is free.
func (s *Server) activationID(r *http.Request) string {
	if r.Header.Get(HopHeader) == "" {
		return newActivationID()
	}
	id := r.Header.Get(HopActivationHeader)
	if !ValidActivationID(id) {
		return newActivationID()
	}
	if s.store.HasActivation(id) {
		return newActivationID()
	}
	return id
}

// ValidActivationID reports whether id has the form of the ids this API
// gives: 32 lowercase hexadecimal characters.
func ValidActivationID(id string) bool {
	if len(id) != 32 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// NewActivationID returns a fresh activation id, as an invoker would give:
// fronts use it for the ids they choose.
func NewActivationID() string { return newActivationID() }

var _ Actions = (*store.Store)(nil)
