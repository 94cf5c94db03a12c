package jscheck

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/stemcell-io/stemcell/internal/ziptest"
)

// wrap76 breaks base64 text into lines of 76 characters, as MIME does.
func wrap76(s string) string {
	var out []string
	for len(s) > 76 {
		out = append(out, s[:76])
		s = s[76:]
	}
	return strings.Join(append(out, s), "\r\n")
}

func TestCheck(t *testing.T) {
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	const clean = "function main() { return {} }"
	tests := []struct {
		name   string
		code   string
		binary bool
		want   string // "" = passes; else Error's text
	}{
		{name: "clean text", code: clean},
		{name: "text", code: "const fs = require('fs')\n" + clean, want: `line 1:12 calls require("fs")`},
		{name: "base64 text", code: b64("\n\nrequire('os')"), binary: true, want: `line 3:1 calls require("os")`},
		{name: "does not parse", code: "function main( { require('x')"},
		{name: "not base64", code: "require('x')!", binary: true},
		{name: "ELF executable", code: b64("\x7fELF require('x')"), binary: true},
		{name: "more than listed", code: "require('a');require('b');require('c');require('d');require('e')",
			want: `line 1:1 calls require("a"), line 1:14 calls require("b"), line 1:27 calls require("c") and 2 more call(s) of require`},

		{name: "zip as base64 with line breaks", binary: true, code: wrap76(ziptest.Base64(t, "index.js", "require('w')")),
			want: `index.js:1:1 calls require("w")`},
		{name: "zip without require", binary: true, code: ziptest.Base64(t, "index.js", clean, "lib/util.js", "exports.x = 1")},
		{name: "zip entry", binary: true, code: ziptest.Base64(t, "index.js", "const {x} = require('./lib/util')\n"+clean, "lib/util.js", "exports.x = 1"),
			want: `index.js:1:13 calls require("./lib/util")`},
		{name: "zip entry listed first", binary: true, code: ziptest.Base64(t, "lib/a.js", "require('a')", "index.js", "require('./lib/a')"),
			want: `index.js:1:1 calls require("./lib/a")`},
		{name: "zip second file", binary: true, code: ziptest.Base64(t, "index.js", clean, "lib/util.js", "\nconst http = require('http')"),
			want: `lib/util.js:2:14 calls require("http") (the runtime loads only the zip's entry file index.js, so lib/util.js could only run through a require)`},
		{name: "zip cjs file", binary: true, code: ziptest.Base64(t, "index.js", clean, "x.cjs", "require('c')"),
			want: `x.cjs:1:1 calls require("c") (the runtime loads only the zip's entry file index.js, so x.cjs could only run through a require)`},
		{name: "zip package.json main", binary: true, code: ziptest.Base64(t, "package.json", `{"main":"./src/action.js"}`, "src/action.js", "require('m')"),
			want: `src/action.js:1:1 calls require("m")`},
		{name: "zip main without js suffix", binary: true, code: ziptest.Base64(t, "package.json", `{"main":"action"}`, "action", "require('m')"),
			want: `action:1:1 calls require("m")`},
		{name: "zip other files are not code", binary: true, code: ziptest.Base64(t, "index.js", clean, "README.md", "require('x')", "data.json", `"require('y')"`)},
		{name: "zip directory entry", binary: true, code: ziptest.Base64(t, "lib.js/", "", "index.js", clean)},
		{name: "zip native action", binary: true, code: ziptest.Base64(t, "exec", "#!/bin/sh", "helper.js", "require('x')")},
		{name: "zip with a bad package.json", binary: true, code: ziptest.Base64(t, "package.json", `{`, "index.js", "require('x')")},
		{name: "zip file that does not parse", binary: true, code: ziptest.Base64(t, "index.js", clean, "broken.js", "require('x'")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := Check(tt.code, tt.binary)
			switch {
			case tt.want == "" && e != nil:
				t.Errorf("Check = %q, want it to pass", e.Error())
			case tt.want != "" && e == nil:
				t.Errorf("Check passed, want %q", tt.want)
			case e != nil && e.Error() != tt.want:
				t.Errorf("Check\n got %q\nwant %q", e.Error(), tt.want)
			}
		})
	}
}

// TestCheckExaminedBound: code past the bound is not examined; a zip's
// files count from their declared sizes, parsed or not.
func TestCheckExaminedBound(t *testing.T) {
	big := "require('big')" + strings.Repeat(" ", 100)
	code := ziptest.Base64(t, "index.js", "function main() { return {} }", "a.js", big, "b.js", "require('small')")
	if e := check(code, true, 50); e == nil || e.File != "b.js" {
		t.Errorf("check with a 50-byte bound = %v, want b.js's call (a.js is past the bound)", e)
	}
	if e := check(code, true, 1<<20); e == nil || e.File != "a.js" {
		t.Errorf("check with a 1 MB bound = %v, want a.js's call", e)
	}
	if e := check(ziptest.Base64(t, "index.js", big), true, 10); e != nil {
		t.Errorf("an entry past the bound was examined: %v", e)
	}
	if e := check(big, false, 10); e != nil {
		t.Errorf("code past the bound was examined: %v", e)
	}
	if e := check(big, false, len(big)); e == nil {
		t.Error("code at the bound was not examined")
	}
}

func TestEntryName(t *testing.T) {
	tests := []struct {
		files   []string
		want    string
		wantErr string
	}{
		{files: []string{"index.js", ""}, want: "index.js"},
		{files: []string{"package.json", `{"name":"a"}`}, want: "index.js"},
		{files: []string{"package.json", `{"main":"./lib/main.js"}`}, want: "lib/main.js"},
		{files: []string{"package.json", `{"main":"app.js"}`}, want: "app.js"},
		{files: []string{"package.json", `{"main":`}, wantErr: "package.json is not valid JSON"},
	}
	for _, tt := range tests {
		raw, _ := base64.StdEncoding.DecodeString(ziptest.Base64(t, tt.files...))
		zr, err := zip.NewReader(bytes.NewReader(raw), int64(len(raw)))
		if err != nil {
			t.Fatal(err)
		}
		got, err := EntryName(zr)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("EntryName(%q) = %q, %v; want an error with %q", tt.files, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("EntryName(%q) = %q, %v; want %q", tt.files, got, err, tt.want)
		}
	}
}

func TestRequireMessage(t *testing.T) {
	got := RequireMessage("./lib")
	for _, want := range []string{`require("./lib") is not available.`, "no require", "no Node.js built-in module", "Bundle", "runtimes-manifest.preset: openwhisk"} {
		if !strings.Contains(got, want) {
			t.Errorf("RequireMessage = %q, lacks %q", got, want)
		}
	}
}

// FuzzCheck: any code, text or binary, is examined without a panic, and a
// refusal always lists a call.
func FuzzCheck(f *testing.F) {
	f.Add("require('x')", false)
	f.Add(ziptest.Base64(f, "index.js", "require('a')", "b.js", "x"), true)
	f.Add(ziptest.Base64(f, "package.json", `{"main":"m.js"}`, "m.js", "require(`t`)"), true)
	f.Add("UEsDBA==", true)
	f.Fuzz(func(t *testing.T, code string, binary bool) {
		if e := Check(code, binary); e != nil && (len(e.Calls) == 0 || e.Error() == "") {
			t.Errorf("Check(%q, %v) = %+v: a refusal without a call", code, binary, e)
		}
	})
}
