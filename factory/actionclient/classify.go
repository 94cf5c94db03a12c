package actionclient

import (
	"bytes"
	"encoding/json"
	"net/http"

	"github.com/stemcell-io/stemcell/factory"
)

// response is what a runtime answered, with the body possibly cut short.
type response struct {
	status int
	body   []byte // the whole body, or its first truncation bytes
	// length and max are set when Content-Length exceeded the limit.
	truncated   bool
	length, max int64
	// memoryExhausted: the runtime aborted the action for memory (see
	// MemoryExhaustedHeader).
	memoryExhausted bool
}

// MemoryExhaustedHeader is set by Stemcell's runtime on a failed /init or
// /run it aborted because the action exhausted the container's memory.
const MemoryExhaustedHeader = "Stemcell-Memory-Exhausted"

// classifyInit turns a non-timed-out /init answer into a status and result.
// Only a 200 with a complete body is a success; its body is ignored.
func classifyInit(r response) (factory.Status, json.RawMessage) {
	if r.truncated {
		return factory.StatusDeveloperError, errorResult(truncatedMessage(r.length, r.max, r.body))
	}
	if r.status == http.StatusOK {
		return factory.StatusSuccess, nil
	}
	if r.memoryExhausted {
		return factory.StatusDeveloperError, errorResult(msgMemoryExhausted)
	}
	if fields, ok := jsonObject(r.body); ok {
		if e, ok := fields["error"]; ok {
			return factory.StatusDeveloperError, errorValueResult(e)
		}
	}
	return factory.StatusDeveloperError, errorResult(withBody(msgInvalidInit, r.body))
}

// classifyRun turns a non-timed-out /run answer into a status and result.
func classifyRun(r response) (factory.Status, json.RawMessage) {
	if r.truncated {
		return factory.StatusApplicationError, errorResult(truncatedMessage(r.length, r.max, r.body))
	}
	body := bytes.TrimSpace(r.body)
	ok200 := r.status == http.StatusOK
	if r.memoryExhausted && !ok200 {
		return factory.StatusDeveloperError, errorResult(msgMemoryExhausted)
	}
	if fields, isObj := jsonObject(body); isObj {
		e, hasErr := fields["error"]
		switch {
		case ok200 && hasErr:
			return factory.StatusApplicationError, errorValueResult(e)
		case ok200:
			return factory.StatusSuccess, json.RawMessage(body)
		case hasErr:
			return factory.StatusDeveloperError, errorValueResult(e)
		}
		return factory.StatusDeveloperError, errorResult(withBody(msgInvalidRun, r.body))
	}
	if ok200 && len(body) > 0 && body[0] == '[' && json.Valid(body) {
		return factory.StatusSuccess, json.RawMessage(body)
	}
	return factory.StatusDeveloperError, errorResult(withBody(msgInvalidRun, r.body))
}

// jsonObject decodes b when it is a JSON object; arrays, scalars and
// invalid JSON report false.
func jsonObject(b []byte) (map[string]json.RawMessage, bool) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return nil, false
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, false
	}
	return m, true
}
