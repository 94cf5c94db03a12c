package server

import (
	"encoding/base64"
	"io"
	"net/http"
	"strings"
	"testing"
)

// doHop invokes hello blocking as a front would, with the hop headers.
func (h *harness) doHop(id string) reply {
	h.t.Helper()
	req, err := http.NewRequest("POST", h.http.URL+"/api/v1/namespaces/_/actions/hello?blocking=true", strings.NewReader(`{"name":"x"}`))
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(guestAuth)))
	req.Header.Set(HopHeader, "front-1")
	req.Header.Set(HopActivationHeader, id)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{status: resp.StatusCode, header: resp.Header, body: b}
}

func TestFrontChosenActivationID(t *testing.T) {
	h := newHarness(t)
	h.createHello()
	const chosen = "0123456789abcdef0123456789abcdef"
	r := h.doHop(chosen)
	if r.status != 200 || r.header.Get(activationHeader) != chosen {
		t.Fatalf("first invoke with id %s: %d, id %q; body %s", chosen, r.status, r.header.Get(activationHeader), r.body)
	}
	// The record is under the chosen id (the read also waits for its
	// commit). The id is taken now: the same id again gets a fresh one, so
	// a client that sets the headers itself cannot overwrite a record.
	if g := h.do("GET", "/api/v1/namespaces/_/activations/"+chosen, guestAuth, ""); g.status != 200 {
		t.Fatalf("record of %s: %d %s", chosen, g.status, g.body)
	}
	r = h.doHop(chosen)
	if got := r.header.Get(activationHeader); r.status != 200 || got == chosen || !ValidActivationID(got) {
		t.Fatalf("second invoke with a used id: %d, id %q", r.status, got)
	}
	for _, bad := range []string{"", "xyz", strings.ToUpper(chosen), chosen + "0"} {
		r = h.doHop(bad)
		if got := r.header.Get(activationHeader); got == bad || !ValidActivationID(got) {
			t.Errorf("malformed id %q: got id %q, want a fresh one", bad, got)
		}
	}
}

func TestValidActivationID(t *testing.T) {
	for id, want := range map[string]bool{
		NewActivationID():                   true,
		"0123456789abcdef0123456789abcdef":  true,
		"0123456789abcdef0123456789abcdeF":  false,
		"0123456789abcdef0123456789abcde":   false,
		"0123456789abcdef0123456789abcdef0": false,
		"g123456789abcdef0123456789abcdef":  false,
	} {
		if got := ValidActivationID(id); got != want {
			t.Errorf("ValidActivationID(%q) = %v, want %v", id, got, want)
		}
	}
}
