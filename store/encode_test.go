package store

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
)

// The action encoders must produce json.Marshal's bytes exactly, whatever
// the code holds and wherever a piece boundary falls.
func TestMarshalActionMatchesJSONMarshal(t *testing.T) {
	str := func(s string) *string { return &s }
	multibyte := strings.Repeat("é€😀", codeChunk/3) // 9 bytes a round: sequences straddle the piece boundaries
	invalid := strings.Repeat("a\xe2\x82", codeChunk/2) + "\x80\x80\x80\x80\x80z"
	tests := []struct {
		name string
		code *string
		edit func(a *Action)
	}{
		{name: "no code"},
		{name: "empty code", code: str("")},
		{name: "base64", code: str(base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xfb, 0xff, 0x01}, 3*codeChunk)))},
		{name: "javascript", code: str("function main(p) {\n\treturn {\"payload\": '<b>' + p.name + \"</b> & more\\\\\"};\n}\n")},
		{name: "control and separators", code: str("\x00\x01\x1f\u2028\u2029\x7f")},
		{name: "multibyte across pieces", code: str(multibyte)},
		{name: "invalid UTF-8 across pieces", code: str(invalid)},
		{name: "large escaped", code: str(strings.Repeat("\"quoted\"\n", 3*codeChunk/9))},
		{name: "blackbox with image and main", code: str("x"), edit: func(a *Action) {
			a.Exec.Kind, a.Exec.Image, a.Exec.Main = "blackbox", "openwhisk/dockerskeleton", "run"
		}},
		{name: "exec look-alikes in earlier fields", code: str("c"), edit: func(a *Action) {
			a.Version = `"exec":{"kind":"x"`
			a.Name = `exec":{"kind":`
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &Action{
				Namespace: "guest/pkg", Name: "hello", Version: "0.0.1",
				Exec:        Exec{Kind: "nodejs:20", Code: tt.code, Binary: true},
				Parameters:  []KeyValue{{Key: "p", Value: json.RawMessage(`{"a":"<x>"}`), Init: true}},
				Limits:      Limits{Timeout: 60000, Memory: 256, Logs: 10, Concurrency: 1},
				Annotations: []KeyValue{{Key: "exec", Value: json.RawMessage(`"nodejs:20"`)}},
				Updated:     1717243190000,
			}
			if tt.edit != nil {
				tt.edit(a)
			}
			want, err := json.Marshal(a)
			if err != nil {
				t.Fatal(err)
			}
			got, err := MarshalAction(a)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("MarshalAction differs from json.Marshal at byte %d", firstDiff(got, want))
			}
			var buf bytes.Buffer
			n, err := WriteAction(&buf, a)
			if err != nil || n != int64(len(want)) || !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("WriteAction: n=%d (want %d), err=%v, differs at byte %d", n, len(want), err, firstDiff(buf.Bytes(), want))
			}
			if size, err := ActionSize(a); err != nil || size != int64(len(want)) {
				t.Errorf("ActionSize = %d, %v; want %d", size, err, len(want))
			}
		})
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
