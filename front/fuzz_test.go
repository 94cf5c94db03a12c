package front

import (
	"encoding/json"
	"net/http"
	"testing"
)

// FuzzDecodePage feeds arbitrary invoker answers to the list merge's
// parser: it must refuse what is not a list of records, never panic, and
// keep every element it accepts as valid JSON.
func FuzzDecodePage(f *testing.F) {
	for _, s := range []string{`[]`, `[{"activationId":"a","start":1}]`, `[1]`, `{"error":"x","code":"y"}`, `[{"start":"x"}]`, ``} {
		f.Add(s, 200)
	}
	f.Add(`{"error":"busy"}`, 429)
	f.Fuzz(func(t *testing.T, body string, status int) {
		page, err := decodePage(reply{invoker: "inv", status: status, body: []byte(body)})
		_ = invokerMessage([]byte(body), "")
		if err != nil {
			return
		}
		if status != http.StatusOK {
			t.Fatalf("status %d accepted", status)
		}
		for i, it := range page {
			if !json.Valid(it.raw) {
				t.Fatalf("element %d kept as invalid JSON: %q", i, it.raw)
			}
		}
	})
}

func FuzzBaseURL(f *testing.F) {
	for _, s := range []string{"127.0.0.1:3233", "http://h:1/", "https://h", "", "/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, addr string) {
		u := BaseURL(addr)
		if u != "" && u[len(u)-1] == '/' {
			t.Fatalf("BaseURL(%q) = %q ends with a slash: paths would get two", addr, u)
		}
	})
}
