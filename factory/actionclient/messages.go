package actionclient

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"
)

// OpenWhisk's user-facing texts; clients and tests match on them, so they
// are kept word for word.
const (
	msgAbnormalInit    = "The action did not initialize and exited unexpectedly."
	msgAbnormalRun     = "The action did not produce a valid response and exited unexpectedly."
	msgMemoryExhausted = "The action exhausted its memory and was aborted."
	msgInvalidRun      = "The action did not produce a valid JSON or JSON Array response"
	msgInvalidInit     = "The action failed during initialization"
)

// timedOutMessage is OpenWhisk's timedoutActivation text.
func timedOutMessage(timeout time.Duration, init bool) string {
	s := "The action exceeded its time limits of " + strconv.FormatInt(timeout.Milliseconds(), 10) + " milliseconds"
	if init {
		return s + " during initialization."
	}
	return s + "."
}

// withBody appends ": <body>" or, for an empty body, a full stop.
func withBody(prefix string, body []byte) string {
	if len(body) == 0 {
		return prefix + "."
	}
	return prefix + ": " + string(body)
}

// truncatedMessage is OpenWhisk's truncatedResponse text.
func truncatedMessage(length, max int64, head []byte) string {
	return "The action produced a response that exceeded the allowed length: " +
		strconv.FormatInt(length, 10) + " > " + strconv.FormatInt(max, 10) +
		" bytes. The truncated response was: " + string(head)
}

// errorResult is {"error": msg}. HTML escaping is off so that the stored
// text reads as written ("5 > 3", not "5 \u003e 3").
func errorResult(msg string) json.RawMessage {
	return encodeErrorField(msg)
}

// errorValueResult is {"error": v} for an error value taken from a runtime's
// response, which may be any JSON value, not only a string.
func errorValueResult(v json.RawMessage) json.RawMessage {
	return encodeErrorField(v)
}

func encodeErrorField(v any) json.RawMessage {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(struct {
		Error any `json:"error"`
	}{v}); err != nil {
		// Only an invalid RawMessage can fail, and callers pass values
		// the decoder already accepted.
		panic("actionclient: encode error result: " + err.Error())
	}
	return bytes.TrimRight(buf.Bytes(), "\n")
}
