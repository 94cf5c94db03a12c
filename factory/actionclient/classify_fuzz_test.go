package actionclient

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stemcell-io/stemcell/factory"
)

// FuzzClassify checks, for any body and status, that the stored result is
// valid JSON, that a success keeps the body, and that every failure carries
// an "error" key.
func FuzzClassify(f *testing.F) {
	for _, s := range []string{`{"a":1}`, `[1]`, `{"error":"x"}`, `42`, `"s"`, `null`, ``, `{"a":`, "\xff\xfe", `{"error":{"k":[1]}}`} {
		f.Add(200, []byte(s), false)
		f.Add(502, []byte(s), false)
		f.Add(200, []byte(s), true)
	}
	f.Fuzz(func(t *testing.T, status int, body []byte, truncated bool) {
		r := response{status: status, body: body, truncated: truncated, length: int64(len(body)) + 1, max: int64(len(body))}
		for name, classify := range map[string]func(response) (factory.Status, json.RawMessage){"init": classifyInit, "run": classifyRun} {
			st, res := classify(r)
			if name == "init" && st == factory.StatusSuccess {
				if res != nil || status != 200 || truncated {
					t.Fatalf("init success from status %d truncated %v with result %s", status, truncated, res)
				}
				continue
			}
			if !json.Valid(res) {
				t.Fatalf("%s result %q is not JSON (status %d, body %q)", name, res, status, body)
			}
			if st == factory.StatusSuccess {
				if status != 200 || truncated || !bytes.Equal(res, bytes.TrimSpace(body)) {
					t.Fatalf("run success from status %d, body %q, result %s", status, body, res)
				}
				continue
			}
			var m map[string]json.RawMessage
			if err := json.Unmarshal(res, &m); err != nil || m["error"] == nil || len(m) != 1 {
				t.Fatalf("%s failure result %s is not {\"error\": ...}", name, res)
			}
		}
	})
}
