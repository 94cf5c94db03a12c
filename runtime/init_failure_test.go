package runtime

import (
	"net/http"
	"strings"
	"testing"
)

// A failed /init writes its reason to stderr and then the sentinels on
// both streams, after whatever the action wrote while loading: the
// invoker's log collector takes the activation's logs up to them.
func TestFailedInitWritesReasonAndSentinels(t *testing.T) {
	tests := []struct {
		name       string
		init       func(h *harness) response
		wantStdout []string
		wantReason string // in the stderr line before the sentinel
	}{
		{name: "JS action throwing while loading",
			init: func(h *harness) response {
				return h.initJS(`console.log("loading"); throw new Error("load fails");`, "main", nil)
			},
			wantStdout: []string{"loading"}, wantReason: "load fails"},
		{name: "JS syntax error",
			init:       func(h *harness) response { return h.initJS(`function main( {`, "main", nil) },
			wantReason: "SyntaxError"},
		{name: "native action that cannot start",
			init: func(h *harness) response {
				// An ELF header and nothing else: the kernel refuses it.
				return h.initBinary([]byte("\x7fELF\x02\x01\x01"))
			},
			wantReason: "does not start"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, Options{TempDir: t.TempDir()})
			if r := tt.init(h); r.status != http.StatusBadGateway {
				t.Fatalf("status %d (%s), want 502", r.status, r.body)
			}
			assertLines(t, "stdout", h.stdout.lines(), append(tt.wantStdout, Sentinel))
			errLines := h.stderr.lines()
			if len(errLines) != 2 || errLines[1] != Sentinel || !strings.Contains(errLines[0], tt.wantReason) {
				t.Fatalf("stderr %q, want the reason (holding %q) and the sentinel", errLines, tt.wantReason)
			}
		})
	}
}
