package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/rs/zerolog/hlog"
)

// OpenWhisk's error messages, which clients print as they are.
const (
	msgNoAuth         = "The resource requires authentication, which was not supplied with the request"
	msgBadAuth        = "The supplied authentication is invalid"
	msgNotFound       = "The requested resource does not exist."
	msgNoRoute        = "The requested resource could not be found."
	msgExists         = "resource already exists"
	msgMalformed      = "The request content was malformed:\n"
	msgInternal       = "There was an internal server error."
	msgUnavailable    = "The server is currently unavailable (because it is overloaded or down for maintenance)."
	msgContentType    = "The request's Content-Type is not supported. Expected:\napplication/json"
	msgExecUndefined  = "exec undefined"
	msgBadActivation  = "The activation id is not valid."
	msgBadEntityName  = "The name of the entity contains illegal characters."
	msgBadNamespace   = "The namespace contains illegal characters."
	msgFinalParams    = "Request defines parameters that are not allowed (e.g., reserved properties)."
	msgTimeoutParam   = "Timeout must be number of milliseconds up to %d."
	msgTooLarge       = "Request larger than allowed: %d > %d bytes."
	msgTooManyFlight  = "Too many concurrent requests in flight (count: %d, allowed: %d)."
	msgTooManyMinute  = "Too many requests in the last minute (count: %d, allowed: %d)."
	msgForbidden      = "The supplied authentication is not authorized to access '%s'."
	msgMethodNotAllow = "HTTP method not allowed, supported methods: %s"
)

// Our messages for the daemon's own edges.
const (
	msgUploadBusy   = "Too many action uploads in progress: this PUT of %d bytes waited %s for room; %d bytes are being processed and server.put-bytes-in-flight allows %d. Retry later."
	msgUploadGone   = "The client went away while this PUT of %d bytes waited %s for room to be processed."
	msgDuplicateKey = "the key %q appears twice in one object (again at offset %d): each key may appear once"
	msgNotServed    = "This invoker does not serve %s: it serves actions and activations only."
	msgPackagedPut  = "This invoker does not serve packages, so the action '%s' cannot be created in package '%s': create it without the package."
	msgWebExportPut = "This invoker does not serve web actions: the annotation 'web-export' must be false or absent."
)

// apiError is an error the API answers with its status and message.
type apiError struct {
	status int
	msg    string
}

func (e *apiError) Error() string { return fmt.Sprintf("%d: %s", e.status, e.msg) }

func errorf(status int, format string, args ...any) *apiError {
	return &apiError{status: status, msg: fmt.Sprintf(format, args...)}
}

// errorBody is OpenWhisk's error envelope. Code is the request id, which is
// also the X-Request-Id header and the transaction id of any activation.
type errorBody struct {
	Error string `json:"error"`
	Code  string `json:"code"`
}

// writeError answers with the envelope; err that is not an *apiError is an
// internal error, logged and hidden from the client.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	ae, ok := err.(*apiError)
	if !ok {
		hlog.FromRequest(r).Error().Err(err).Msg("internal error")
		ae = &apiError{status: http.StatusInternalServerError, msg: msgInternal}
	}
	if ae.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="OpenWhisk secure realm"`)
	}
	writeJSON(w, ae.status, errorBody{Error: ae.msg, Code: requestID(r)})
}

// writeJSON answers status with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error":"` + msgInternal + `","code":""}`)
	}
	writeRaw(w, status, b)
}

func writeRaw(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Type", "application/json")
	// Known length: a flush before the handler returns sends it whole,
	// not chunked.
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func requestID(r *http.Request) string {
	if id, ok := hlog.IDFromRequest(r); ok {
		return id.String()
	}
	return ""
}
