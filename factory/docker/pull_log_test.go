package docker

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/rs/zerolog"
)

func TestPullLogSummarisesProgress(t *testing.T) {
	var buf bytes.Buffer
	l := newPullLog(zerolog.New(&buf), "openwhisk/action-nodejs-v20:nightly", 0) // a progress line per message
	for _, p := range []pullProgress{
		{Layer: "nightly", Status: "Pulling from openwhisk/action-nodejs-v20"},
		{Layer: "a", Status: "Pulling fs layer"},
		{Layer: "b", Status: "Pulling fs layer"},
		{Layer: "a", Status: "Downloading", Current: 50, Total: 100},
		{Layer: "b", Status: "Already exists"},
		{Layer: "a", Status: "Download complete"},
		{Layer: "a", Status: "Extracting", Current: 10, Total: 100},
		{Layer: "a", Status: "Pull complete"},
		{Status: "Digest: sha256:0123"},
	} {
		l.update(p)
	}
	l.done(nil)
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 11 { // start, 9 progress, done
		t.Fatalf("%d lines, want 11:\n%s", len(lines), buf.String())
	}
	for i, want := range map[int]string{
		4:  `"layers_done":0,"layers":2,"downloaded_bytes":50,"download_bytes":100`,
		5:  `"layers_done":1,"layers":2,"downloaded_bytes":50,"download_bytes":100`,
		8:  `"layers_done":2,"layers":2,"downloaded_bytes":100,"download_bytes":100`,
		10: `"layers":2,"downloaded_bytes":100,"message":"pulled image"`,
	} {
		if !strings.Contains(lines[i], want) {
			t.Errorf("line %d = %s\nwant it to hold %s", i, lines[i], want)
		}
	}
	buf.Reset()
	l.done(errors.New("no route"))
	if !strings.Contains(buf.String(), `"level":"warn","image":"openwhisk/action-nodejs-v20:nightly","error":"no route"`) {
		t.Errorf("failure line %s", buf.String())
	}
}
