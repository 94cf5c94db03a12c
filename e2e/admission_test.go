package e2e

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestDaemonBufferOverflow: with the pool's buffer bounded at one waiting
// activation, a burst of slow invokes overflows it; the overflow answers
// 429 with the daemon's own message and leaves no record, and every
// accepted invoke is recorded once.
func TestDaemonBufferOverflow(t *testing.T) {
	// 1 GB: the two 256 MB stem cells leave room for 4 slow containers.
	d := newDaemon(t, "--user-memory", "1g", "--set", "container-pool.buffer-size=1")
	d.start()
	d.putAction("slow", slowJS, map[string]int{"memory": 128})
	const burst = 12
	var accepted []string
	refused := 0
	for range burst {
		r := d.do("POST", "/api/v1/namespaces/_/actions/slow", guestAuth, map[string]any{"ms": 2000})
		switch r.status {
		case 202:
			accepted = append(accepted, r.object(t)["activationId"].(string))
		case 429:
			refused++
			if !strings.Contains(string(r.body), `"The invoker's queue is full: 1 activations wait (container-pool.buffer-size); try again later."`) ||
				r.header.Get("Retry-After") == "" || r.header.Get("X-Openwhisk-Activation-Id") != "" {
				t.Errorf("buffer overflow answer: %v %v", r.header, r)
			}
		default:
			t.Fatalf("burst invoke: %v", r)
		}
	}
	// At most 4 run and 1 waits.
	if len(accepted) < 1 || len(accepted) > 5 || refused != burst-len(accepted) {
		t.Fatalf("burst of %d with a buffer of 1: %d accepted, %d refused", burst, len(accepted), refused)
	}
	t.Logf("burst of %d: %d accepted, %d refused", burst, len(accepted), refused)
	for _, id := range accepted {
		if rec := d.activation(id); rec["response"].(map[string]any)["success"] != true {
			t.Errorf("accepted activation %s: %v", id, rec["response"])
		}
	}
	if r := d.do("GET", "/api/v1/namespaces/_/activations?count=true&name=slow", guestAuth, nil); r.object(t)["activations"] != float64(len(accepted)) {
		t.Errorf("records of slow: %v, want %d (the accepted ones only)", r, len(accepted))
	}
	metrics := string(d.do("GET", "/metrics", "", nil).body)
	m := regexp.MustCompile(`stemcell_api_admission_rejected_total\{reason="buffer_full"\} (\d+)`).FindStringSubmatch(metrics)
	if m == nil || m[1] != strconv.Itoa(refused) {
		t.Errorf("buffer_full refusals in /metrics: %v, want %d", m, refused)
	}
	d.settle()
}
