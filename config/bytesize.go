package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ByteSize is a size in bytes. It parses the forms operators write
// ("256 m", "256MB", "2GiB", plain bytes) and prints in the largest whole unit.
type ByteSize int64

// Units of ByteSize. Like OpenWhisk, "m" and "MB" mean MiB.
const (
	B  ByteSize = 1
	KB ByteSize = 1 << 10
	MB ByteSize = 1 << 20
	GB ByteSize = 1 << 30
	TB ByteSize = 1 << 40
)

// ErrByteSize is wrapped by every error of ParseByteSize.
var ErrByteSize = errors.New("invalid size")

// Bytes returns the size in bytes.
func (b ByteSize) Bytes() int64 { return int64(b) }

// MBs returns the size in whole MiB, rounded down.
func (b ByteSize) MBs() int64 { return int64(b / MB) }

// KBs returns the size in whole KiB, rounded down.
func (b ByteSize) KBs() int64 { return int64(b / KB) }

// MiB returns the size in MiB as a fraction, for reports and gauges.
func (b ByteSize) MiB() float64 { return float64(b) / float64(MB) }

// Min returns the smaller of b and o.
func (b ByteSize) Min(o ByteSize) ByteSize { return min(b, o) }

// Max returns the larger of b and o.
func (b ByteSize) Max(o ByteSize) ByteSize { return max(b, o) }

// units are tried from the largest, so String picks the largest whole unit.
var units = []struct {
	size ByteSize
	name string
}{{TB, "TB"}, {GB, "GB"}, {MB, "MB"}, {KB, "KB"}}

// String prints the size in the largest unit that divides it exactly:
// "256 MB", "2 GB", "1536 MB", "100 B". ParseByteSize reads it back.
func (b ByteSize) String() string {
	if b < 0 {
		if b == math.MinInt64 { // -b overflows
			return strconv.FormatInt(int64(b), 10) + " B"
		}
		return "-" + (-b).String()
	}
	for _, u := range units {
		if b != 0 && b%u.size == 0 {
			return strconv.FormatInt(int64(b/u.size), 10) + " " + u.name
		}
	}
	return strconv.FormatInt(int64(b), 10) + " B"
}

// unitSizes maps every accepted unit spelling (lower case) to its size.
var unitSizes = map[string]ByteSize{
	"": B, "b": B,
	"k": KB, "kb": KB, "kib": KB,
	"m": MB, "mb": MB, "mib": MB,
	"g": GB, "gb": GB, "gib": GB,
	"t": TB, "tb": TB, "tib": TB,
}

// ParseByteSize reads a whole, non-negative number of bytes, optionally
// followed by a unit: k, m, g or t, each optionally followed by "B" or "iB",
// in any case and with or without a space ("256 m", "256MB", "2GiB",
// "1048576"). Every unit is binary: "1 MB" is 1048576 bytes, as in OpenWhisk.
func ParseByteSize(s string) (ByteSize, error) {
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && t[i] >= '0' && t[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, fmt.Errorf("%w: %q: must be a whole number of bytes with an optional unit (e.g. 256 MB, 2g, 1048576)", ErrByteSize, s)
	}
	unit := strings.ToLower(strings.TrimSpace(t[i:]))
	size, ok := unitSizes[unit]
	if !ok {
		return 0, fmt.Errorf("%w: %q: unknown unit %q (use B, K, M, G or T, optionally followed by B or iB)", ErrByteSize, s, t[i:])
	}
	n, err := strconv.ParseInt(t[:i], 10, 64)
	if err != nil || n > math.MaxInt64/int64(size) {
		return 0, fmt.Errorf("%w: %q: too large (at most %d bytes)", ErrByteSize, s, int64(math.MaxInt64))
	}
	return ByteSize(n) * size, nil
}

// MustParseByteSize is ParseByteSize for constants in code and tests.
func MustParseByteSize(s string) ByteSize {
	b, err := ParseByteSize(s)
	if err != nil {
		panic(err)
	}
	return b
}

// MarshalText prints the size as String does, so YAML and JSON carry
// "256 MB" rather than a bare number.
func (b ByteSize) MarshalText() ([]byte, error) { return []byte(b.String()), nil }

// UnmarshalText parses any form ParseByteSize accepts.
func (b *ByteSize) UnmarshalText(text []byte) error {
	v, err := ParseByteSize(string(text))
	if err != nil {
		return err
	}
	*b = v
	return nil
}

// UnmarshalJSON accepts a string ("256 MB") or a bare number of bytes,
// since hand-written manifests use both.
func (b *ByteSize) UnmarshalJSON(data []byte) error {
	if len(data) > 0 && data[0] == '"' {
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return err
		}
		return b.UnmarshalText([]byte(s))
	}
	if string(data) == "null" {
		return nil
	}
	return b.UnmarshalText(data)
}
