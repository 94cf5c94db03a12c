package runtime

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
)

func FuzzParseRun(f *testing.F) {
	for _, seed := range []string{
		`{"value": {"a": 1}, "activation_id": "x", "deadline": "1"}`,
		`{"value": [1], "api_key": "k\u0041\"", "n": 3}`,
		`{"value": 1}`, `{}`, `[]`, `{"value": null}`, `{"value":`, `{"value": "s"}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		act, err := parseRun(body)
		if err != nil {
			var se *statusError
			if !errors.As(err, &se) || se.status != http.StatusBadRequest {
				t.Fatalf("parseRun(%q) error %v: want a 400 statusError", body, err)
			}
			return
		}
		if !isObjectOrArray(act.value) {
			t.Fatalf("parseRun(%q) accepted value %q: not an object or array", body, act.value)
		}
		for k := range act.env {
			if !strings.HasPrefix(k, "__OW_") {
				t.Fatalf("parseRun(%q) env key %q lacks the __OW_ prefix", body, k)
			}
		}
		if _, err := json.Marshal(act.fields); err != nil {
			t.Fatalf("parseRun(%q): fields do not re-encode for a native action: %v", body, err)
		}
	})
}

func FuzzParseInit(f *testing.F) {
	for _, seed := range []string{
		`{"value": {"name": "a", "main": "main", "code": "function main(){return {}}", "env": {"A": "1", "B": 2}}}`,
		`{"value": {"binary": true, "code": "UEsDBA=="}}`,
		`{"value": {"binary": true, "code": "f0VMRgIBAQ=="}}`,
		`{"value": {}}`, `{}`, `{"value": {"code": ""}}`, `nope`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		code, err := parseInit(body)
		if err != nil {
			var se *statusError
			if !errors.As(err, &se) || (se.status != http.StatusBadRequest && se.status != http.StatusBadGateway) {
				t.Fatalf("parseInit(%q) error %v: want a 400 or 502 statusError", body, err)
			}
			return
		}
		if code.main == "" || (code.native == nil && code.source == "") {
			t.Fatalf("parseInit(%q) = %+v: no entry point or no code", body, code)
		}
	})
}

func TestJSONText(t *testing.T) {
	for _, tc := range []struct{ raw, want string }{
		{`"plain"`, "plain"},
		{`"esc\"aped\u0041"`, `esc"apedA`},
		{`""`, ""},
		{`12`, "12"},
		{`true`, "true"},
		{`{"a":1}`, `{"a":1}`},
	} {
		if got := jsonText(json.RawMessage(tc.raw)); got != tc.want {
			t.Errorf("jsonText(%s) = %q, want %q", tc.raw, got, tc.want)
		}
	}
}
