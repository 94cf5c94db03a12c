package config

import (
	"encoding/json"
	"errors"
	"math"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestParseByteSize(t *testing.T) {
	tests := []struct {
		in   string
		want ByteSize
	}{
		{"256 m", 256 * MB},
		{"256m", 256 * MB},
		{"256 MB", 256 * MB},
		{"256MB", 256 * MB},
		{"256 mb", 256 * MB},
		{"256MiB", 256 * MB},
		{"1 g", GB},
		{"2GiB", 2 * GB},
		{"2 gib", 2 * GB},
		{"512 KB", 512 * KB},
		{"512k", 512 * KB},
		{"1 t", TB},
		{"3 TB", 3 * TB},
		{"1048576", MB},
		{"100 B", 100},
		{"100b", 100},
		{"0", 0},
		{"  7 m  ", 7 * MB},
		{"8388607 TB", 8388607 * TB},
		{"9223372036854775807", math.MaxInt64},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseByteSize(tt.in)
			if err != nil {
				t.Fatalf("ParseByteSize(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("ParseByteSize(%q) = %d, want %d", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseByteSizeRejects(t *testing.T) {
	for _, in := range []string{"", " ", "m", "MB", "-1 m", "+1m", "1.5 g", "1 mbit", "1 MiBB", "1 p", "one m", "8388608 TB", "9223372036854775808", "1 m m", "0x10"} {
		t.Run(in, func(t *testing.T) {
			got, err := ParseByteSize(in)
			if err == nil {
				t.Fatalf("ParseByteSize(%q) = %d, want an error", in, got)
			}
			if !errors.Is(err, ErrByteSize) {
				t.Errorf("error %v does not wrap ErrByteSize", err)
			}
		})
	}
}

func TestByteSizeString(t *testing.T) {
	tests := []struct {
		in   ByteSize
		want string
	}{
		{0, "0 B"},
		{100, "100 B"},
		{KB, "1 KB"},
		{1536 * KB, "1536 KB"},
		{256 * MB, "256 MB"},
		{1536 * MB, "1536 MB"},
		{2 * GB, "2 GB"},
		{1024 * GB, "1 TB"},
		{MB + 1, "1048577 B"},
		{-256 * MB, "-256 MB"},
		{math.MinInt64, "-9223372036854775808 B"},
	}
	for _, tt := range tests {
		if got := tt.in.String(); got != tt.want {
			t.Errorf("ByteSize(%d).String() = %q, want %q", int64(tt.in), got, tt.want)
		}
	}
}

func TestByteSizeRoundTrip(t *testing.T) {
	for _, b := range []ByteSize{0, 1, 1023, KB, KB + 1, MB, 3 * MB, GB - 1, 5 * GB, TB, 7 * TB, math.MaxInt64, math.MaxInt64 / TB * TB} {
		got, err := ParseByteSize(b.String())
		if err != nil || got != b {
			t.Errorf("ParseByteSize(%q) = %d, %v; want %d", b.String(), got, err, int64(b))
		}
	}
}

func TestByteSizeEncodings(t *testing.T) {
	var j struct {
		A ByteSize `json:"a"`
		B ByteSize `json:"b"`
	}
	if err := json.Unmarshal([]byte(`{"a": "256 MB", "b": 1024}`), &j); err != nil {
		t.Fatal(err)
	}
	if j.A != 256*MB || j.B != KB {
		t.Errorf("JSON decoded %d, %d; want %d, %d", j.A, j.B, 256*MB, KB)
	}
	out, err := json.Marshal(j)
	if err != nil || string(out) != `{"a":"256 MB","b":"1 KB"}` {
		t.Errorf("JSON encoded %s, %v", out, err)
	}
	if err := json.Unmarshal([]byte(`{"a": "lots"}`), &j); !errors.Is(err, ErrByteSize) {
		t.Errorf("JSON decoding \"lots\": %v, want ErrByteSize", err)
	}
	var y struct {
		M ByteSize `yaml:"m"`
	}
	if err := yaml.Unmarshal([]byte("m: 2g\n"), &y); err != nil || y.M != 2*GB {
		t.Errorf("YAML decoded %d, %v; want %d", y.M, err, 2*GB)
	}
}

func TestByteSizeUnits(t *testing.T) {
	b := 1536 * MB
	if b.MBs() != 1536 || b.KBs() != 1536*1024 || b.Bytes() != 1536<<20 || b.MiB() != 1536 {
		t.Errorf("unit helpers of %v: MBs %d KBs %d Bytes %d MiB %v", b, b.MBs(), b.KBs(), b.Bytes(), b.MiB())
	}
	if (MB + 5).MBs() != 1 {
		t.Errorf("MBs must round down")
	}
	if GB.Min(MB) != MB || GB.Max(MB) != GB {
		t.Errorf("Min/Max wrong")
	}
}
