// Package store keeps the daemon's actions and activation records in an
// embedded bbolt database, so they survive restarts. Records are stored in
// OpenWhisk's JSON shapes, which the HTTP API serves unchanged.
package store

import "encoding/json"

// KeyValue is one parameter or annotation. Init marks a parameter passed to
// the container at /init (as an environment variable) rather than at /run.
type KeyValue struct {
	Key   string          `json:"key"`
	Value json.RawMessage `json:"value"`
	Init  bool            `json:"init,omitempty"`
}

// Limits are an action's limits in OpenWhisk's units.
type Limits struct {
	Timeout     int64 `json:"timeout"`     // ms
	Memory      int64 `json:"memory"`      // MB
	Logs        int64 `json:"logs"`        // MB
	Concurrency int64 `json:"concurrency"` // activations per container
}

// Exec is an action's executable part. Code is a pointer so that a GET with
// code=false can drop it while keeping everything else.
type Exec struct {
	Kind   string  `json:"kind"`
	Code   *string `json:"code,omitempty"`
	Image  string  `json:"image,omitempty"`
	Main   string  `json:"main,omitempty"`
	Binary bool    `json:"binary"`
}

// Action is OpenWhisk's action document. Namespace is the action's own
// namespace path ("guest" or "guest/pkg"); Name the simple name.
type Action struct {
	Namespace   string     `json:"namespace"`
	Name        string     `json:"name"`
	Version     string     `json:"version"`
	Publish     bool       `json:"publish"`
	Exec        Exec       `json:"exec"`
	Parameters  []KeyValue `json:"parameters"`
	Limits      Limits     `json:"limits"`
	Annotations []KeyValue `json:"annotations"`
	Updated     int64      `json:"updated"` // epoch ms
}

// Response is the outcome part of an activation record. OpenWhisk strips
// statusCode from API responses; clients recompute it from Status.
type Response struct {
	Status  string          `json:"status"`
	Success bool            `json:"success"`
	Result  json.RawMessage `json:"result,omitempty"`
	Size    *int            `json:"size,omitempty"`
}

// Activation is OpenWhisk's activation record.
type Activation struct {
	Namespace    string     `json:"namespace"` // the invoking namespace
	Name         string     `json:"name"`      // the action's simple name
	Version      string     `json:"version"`
	Subject      string     `json:"subject"`
	ActivationID string     `json:"activationId"`
	Start        int64      `json:"start"`
	End          int64      `json:"end,omitempty"`
	Duration     int64      `json:"duration,omitempty"`
	Response     Response   `json:"response"`
	Logs         []string   `json:"logs"`
	Annotations  []KeyValue `json:"annotations"`
	Publish      bool       `json:"publish"`
}

// Summary is an element of an activation list without docs=true.
type Summary struct {
	Namespace    string     `json:"namespace"`
	Name         string     `json:"name"`
	Version      string     `json:"version"`
	Publish      bool       `json:"publish"`
	Annotations  []KeyValue `json:"annotations"`
	ActivationID string     `json:"activationId"`
	Start        int64      `json:"start"`
	End          int64      `json:"end,omitempty"`
	Duration     int64      `json:"duration,omitempty"`
	StatusCode   int        `json:"statusCode"`
}

// The four response statuses, indexed by OpenWhisk's statusCode.
var statusNames = [...]string{"success", "application error", "action developer error", "whisk internal error"}

// StatusName returns the response status of a statusCode (0 to 3); an
// unknown code counts as an internal error.
func StatusName(code int) string {
	if code < 0 || code >= len(statusNames) {
		return statusNames[3]
	}
	return statusNames[code]
}

// StatusCode returns the statusCode of a response status.
func StatusCode(status string) int {
	for i, s := range statusNames {
		if s == status {
			return i
		}
	}
	return 3
}

// Summarize returns the list form of a record.
func (a *Activation) Summarize() Summary {
	return Summary{
		Namespace: a.Namespace, Name: a.Name, Version: a.Version, Publish: a.Publish,
		Annotations: a.Annotations, ActivationID: a.ActivationID, Start: a.Start,
		End: a.End, Duration: a.Duration, StatusCode: StatusCode(a.Response.Status),
	}
}
