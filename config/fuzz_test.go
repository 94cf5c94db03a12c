package config

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func FuzzParseByteSize(f *testing.F) {
	for _, s := range []string{"256 m", "256m", "256 MB", "2GiB", "512 KB", "1048576", "0", "1 t", "8388607 TB", "9223372036854775807", "-1", "1.5g", " 7 mib ", "1 MiBB"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := ParseByteSize(s)
		if err != nil {
			return
		}
		if b < 0 {
			t.Fatalf("ParseByteSize(%q) = %d, negative", s, b)
		}
		back, err := ParseByteSize(b.String())
		if err != nil || back != b {
			t.Fatalf("round trip of %q: %d prints %q, which parses to %d, %v", s, b, b.String(), back, err)
		}
	})
}

func FuzzByteSizeString(f *testing.F) {
	for _, n := range []int64{0, 1, 1023, 1 << 20, 3 << 30, 1<<63 - 1, -5} {
		f.Add(n)
	}
	f.Fuzz(func(t *testing.T, n int64) {
		s := ByteSize(n).String()
		if n < 0 {
			return
		}
		back, err := ParseByteSize(s)
		if err != nil || back != ByteSize(n) {
			t.Fatalf("%d prints %q, which parses to %d, %v", n, s, back, err)
		}
	})
}

func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"10m", "500ms", "1h30m", "0", "10 minutes", "2 seconds", "500 ms", "1 day", "1.5 hours", "-5s", "10", "9223372036854775807ns", "106751 days"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err != nil {
			return
		}
		back, err := ParseDuration(FormatDuration(d))
		if err != nil || back != d {
			t.Fatalf("round trip of %q: %v prints %q, which parses to %v, %v", s, d, FormatDuration(d), back, err)
		}
	})
}

func FuzzManifest(f *testing.F) {
	for _, p := range []string{"testdata/openwhisk-runtimes.json", "runtimes.json"} {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"runtimes":{"n":[{"kind":"n:1","default":true,"image":{"name":"i"},"stemCells":[{"count":1,"memory":1024,"reactive":{"minCount":0,"maxCount":1,"ttl":"1 day","threshold":1,"increment":1}}]}]}}`))
	f.Add([]byte(`{"runtimes":{}} x`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseManifest(data)
		if err != nil {
			return
		}
		if err := m.Validate(); err != nil {
			t.Fatalf("ParseManifest accepted a manifest that Validate rejects: %v", err)
		}
		for _, kinds := range m.Runtimes {
			for _, k := range kinds {
				if _, err := m.ResolveKind(k.Kind); err != nil {
					t.Fatalf("listed kind %q does not resolve: %v", k.Kind, err)
				}
				m.IsBlackbox(k.Image)
			}
		}
		out, err := json.Marshal(m)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		back, err := ParseManifest(out)
		if err != nil {
			t.Fatalf("re-parsing %s: %v", out, err)
		}
		if !reflect.DeepEqual(m.StemCells(), back.StemCells()) {
			t.Fatalf("stem cells changed in a round trip:\n%+v\n%+v", m.StemCells(), back.StemCells())
		}
	})
}

// FuzzLoadFile feeds arbitrary YAML to the loader: it may reject, never panic.
func FuzzLoadFile(f *testing.F) {
	for _, p := range []string{"testdata/full.yaml", "testdata/bad.yaml"} {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("container-pool: 5\n"))
	f.Add([]byte("container-factory:\n  container-args:\n    extra-args: {a: {0: x}}\n"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(dir, "fuzz.yaml")
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := Load(LoadOptions{File: p, Env: []string{}})
		if err == nil {
			if verr := c.Validate(); verr != nil {
				t.Fatalf("Load accepted a configuration that Validate rejects: %v", verr)
			}
		}
	})
}
