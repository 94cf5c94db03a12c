// Package ziptest builds zip archives for tests of code that reads action
// zips (the runtime, its require check, the server).
package ziptest

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"testing"
)

// Base64 returns the base64 of a zip holding files, in the order given
// (name, content, name, content, ...), as an action's code carries it; a
// name ending in / is a directory.
func Base64(t testing.TB, files ...string) string {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i := 0; i+1 < len(files); i += 2 {
		w, err := zw.Create(files[i])
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(files[i+1])); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes())
}
