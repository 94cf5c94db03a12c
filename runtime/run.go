package runtime

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// activation is one parsed /run body.
type activation struct {
	// value is the params: a JSON object or array.
	value json.RawMessage
	// env holds the activation's context as __OW_* variables: every
	// top-level key but "value", upper-cased (activation_id becomes
	// __OW_ACTIVATION_ID).
	env map[string]string
	// fields is the whole body, for native actions that get it as one line.
	fields map[string]json.RawMessage
}

func (s *Server) handleRun(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	state, exec := s.state, s.exec
	s.mu.Unlock()
	switch {
	case state != stateReady:
		writeError(w, http.StatusForbidden, errors.New("/run: the action is not initialized: POST /init first"))
		return
	case exec == nil:
		// Closed: the runtime is shutting down, which the invoker treats as
		// a health failure and reschedules the activation.
		writeError(w, http.StatusServiceUnavailable, errors.New("/run: the runtime is shutting down"))
		return
	}
	body, err := s.readBody(w, r)
	if err != nil {
		writeError(w, statusOf(err), err)
		return
	}
	act, err := parseRun(body)
	if err != nil {
		writeError(w, statusOf(err), err)
		return
	}
	if !s.opts.Concurrent {
		s.runMu.Lock()
		defer s.runMu.Unlock()
	}
	wd := s.mem.watch(r.Context())
	result, err := exec.run(wd.ctx, act)
	exhausted := wd.exhausted(err)
	wd.done()
	if exhausted {
		writeMemoryExhausted(w)
		return
	}
	if err != nil {
		writeError(w, statusOf(err), err)
		return
	}
	writeBody(w, http.StatusOK, result)
}

// parseRun validates a /run body.
func parseRun(body []byte) (*activation, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		return nil, withStatus(http.StatusBadRequest, fmt.Errorf("/run: request body is not a valid JSON object: %w", err))
	}
	value, ok := fields["value"]
	if !ok || bytes.Equal(value, []byte("null")) {
		value = json.RawMessage("{}")
		fields["value"] = value
	}
	if c := firstByte(value); c != '{' && c != '[' {
		return nil, withStatus(http.StatusBadRequest, fmt.Errorf(`/run: "value" is %s: the params must be a JSON object or array`, truncate(string(value), 64)))
	}
	act := &activation{value: value, env: make(map[string]string, len(fields)), fields: fields}
	for k, raw := range fields {
		if k == "value" || bytes.Equal(raw, []byte("null")) {
			continue
		}
		act.env["__OW_"+strings.ToUpper(k)] = jsonText(raw)
	}
	return act, nil
}

// jsonText returns a JSON string's value, or any other JSON value's text.
func jsonText(raw json.RawMessage) string {
	// Context values are plain strings (ids, names, epoch ms): skip the
	// decoder when there is no escape to undo.
	if n := len(raw); n >= 2 && raw[0] == '"' && raw[n-1] == '"' && bytes.IndexByte(raw, '\\') < 0 {
		return string(raw[1 : n-1])
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return string(raw)
	}
	return s
}

// isObjectOrArray reports whether a JSON text is an object or an array, the
// only results an action may return.
func isObjectOrArray(b []byte) bool {
	c := firstByte(b)
	return c == '{' || c == '['
}

const errNotDictionary = "The action did not return a dictionary or array."

func firstByte(b []byte) byte {
	b = bytes.TrimLeft(b, " \t\r\n")
	if len(b) == 0 {
		return 0
	}
	return b[0]
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
