package config

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// ErrDuration is wrapped by every error of ParseDuration.
var ErrDuration = errors.New("invalid duration")

// hoconUnits maps OpenWhisk's (HOCON's) duration unit words to Go's suffixes.
// Days have no Go suffix and are handled apart.
var hoconUnits = map[string]string{
	"ns": "ns", "nano": "ns", "nanos": "ns", "nanosecond": "ns", "nanoseconds": "ns",
	"us": "us", "µs": "us", "micro": "us", "micros": "us", "microsecond": "us", "microseconds": "us",
	"ms": "ms", "milli": "ms", "millis": "ms", "millisecond": "ms", "milliseconds": "ms",
	"s": "s", "second": "s", "seconds": "s",
	"m": "m", "minute": "m", "minutes": "m",
	"h": "h", "hour": "h", "hours": "h",
	"d": "d", "day": "d", "days": "d",
}

// ParseDuration reads Go's form ("10m", "1h30m", "500ms") and OpenWhisk's
// ("10 minutes", "2 seconds", "500 ms", "1 day"). A bare number is rejected
// unless it is 0: HOCON reads it as milliseconds, Go as an error, and an
// operator who writes "pause-grace: 10" most likely meant seconds.
func ParseDuration(s string) (time.Duration, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, fmt.Errorf("%w: empty: write a number and a unit (e.g. 10s, 10 seconds)", ErrDuration)
	}
	if d, err := time.ParseDuration(t); err == nil {
		return d, nil
	}
	num, unit := splitNumber(t)
	if num == "" {
		return 0, fmt.Errorf("%w: %q: must be a number and a unit (e.g. 10s, 500ms, 10 minutes)", ErrDuration, s)
	}
	unit = strings.ToLower(strings.TrimSpace(unit))
	if unit == "" {
		return 0, fmt.Errorf("%w: %q: a unit is required (e.g. %ss or %s seconds)", ErrDuration, s, num, num)
	}
	suffix, ok := hoconUnits[unit]
	if !ok {
		return 0, fmt.Errorf("%w: %q: unknown unit %q (use ns, us, ms, s, m, h, d or their names: seconds, minutes, ...)", ErrDuration, s, unit)
	}
	if suffix == "d" {
		h, err := time.ParseDuration(num + "h")
		if err != nil || h > math.MaxInt64/24 || h < math.MinInt64/24 {
			return 0, fmt.Errorf("%w: %q: out of range", ErrDuration, s)
		}
		return h * 24, nil
	}
	d, err := time.ParseDuration(num + suffix)
	if err != nil {
		return 0, fmt.Errorf("%w: %q: %v", ErrDuration, s, err)
	}
	return d, nil
}

// splitNumber splits a leading signed decimal number from the rest.
func splitNumber(s string) (num, rest string) {
	i := 0
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		i++
	}
	digits, dot := 0, false
	for i < len(s) {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' && !dot:
			dot = true
		default:
			goto done
		}
		i++
	}
done:
	if digits == 0 {
		return "", s
	}
	return s[:i], s[i:]
}

// FormatDuration prints d in Go's form without zero components ("10m"
// rather than "10m0s"); ParseDuration reads it back exactly.
func FormatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
