package store

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
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
				Exec:        Exec{Kind: "js:goja", Code: tt.code, Binary: true},
				Parameters:  []KeyValue{{Key: "p", Value: json.RawMessage(`{"a":"<x>"}`), Init: true}},
				Limits:      Limits{Timeout: 60000, Memory: 256, Logs: 10, Concurrency: 1},
				Annotations: []KeyValue{{Key: "exec", Value: json.RawMessage(`"js:goja"`)}},
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

// Large code lives in a bucket of its own; every read sees the whole
// action, whatever size its code had before.
func TestLargeCodeKeptApart(t *testing.T) {
	s := open(t, t.TempDir(), Options{})
	defer s.Close()
	large := strings.Repeat("QUJD", ownBucketCode/4+1)
	put := func(code *string) *Action {
		t.Helper()
		a, err := s.PutAction("guest", "big", func(old *Action) (*Action, error) {
			n := &Action{Namespace: "guest", Name: "big", Version: "0.0.1", Exec: Exec{Kind: "js:goja", Code: code}}
			if old != nil && code == nil {
				n.Exec.Code = old.Exec.Code // an update without code keeps it
			}
			return n, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	codeOf := func() string {
		t.Helper()
		a, err := s.GetAction("guest", "big")
		if err != nil {
			t.Fatal(err)
		}
		if a.Exec.Code == nil {
			return "<nil>"
		}
		return *a.Exec.Code
	}
	small := "function main() {}"
	steps := []struct {
		name string
		code *string
		want string
	}{
		{"create large", &large, large},
		{"update without code", nil, large},
		{"shrink", &small, small},
		{"grow again", &large, large},
	}
	for _, st := range steps {
		put(st.code)
		if got := codeOf(); got != st.want {
			t.Fatalf("%s: code of %d bytes, want %d", st.name, len(got), len(st.want))
		}
	}
	err := s.db.View(func(tx *bolt.Tx) error {
		raw := tx.Bucket(bucketActions).Get(actionKey("guest", "big"))
		if bytes.Contains(raw, []byte("QUJD")) {
			t.Errorf("the document holds the large code inline: %d bytes", len(raw))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	list, _, err := s.ListActions("guest", "", 0, 0)
	if err != nil || len(list) != 1 || list[0].Exec.Code != nil {
		t.Errorf("list = %d actions, err %v; want one, without its code", len(list), err)
	}
	del, err := s.DeleteAction("guest", "big")
	if err != nil || del.Exec.Code == nil || *del.Exec.Code != large {
		t.Fatalf("delete: %v", err)
	}
	err = s.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketCode).Bucket(actionKey("guest", "big")) != nil {
			t.Error("the separate code outlived its action")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
