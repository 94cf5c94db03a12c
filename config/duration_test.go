package config

import (
	"errors"
	"math"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"10m", 10 * time.Minute},
		{"500ms", 500 * time.Millisecond},
		{"1h30m", 90 * time.Minute},
		{"0", 0},
		{"10 minutes", 10 * time.Minute},
		{"1 minute", time.Minute},
		{"2 seconds", 2 * time.Second},
		{"1 second", time.Second},
		{"500 ms", 500 * time.Millisecond},
		{"10 s", 10 * time.Second},
		{"3 hours", 3 * time.Hour},
		{"1 day", 24 * time.Hour},
		{"2d", 48 * time.Hour},
		{"1.5 hours", 90 * time.Minute},
		{"100 millis", 100 * time.Millisecond},
		{"7 us", 7 * time.Microsecond},
		{"5 nanoseconds", 5},
		{"10 Minutes", 10 * time.Minute},
		{"  2 minutes ", 2 * time.Minute},
		{"-5s", -5 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseDuration(tt.in)
			if err != nil {
				t.Fatalf("ParseDuration(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("ParseDuration(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseDurationRejects(t *testing.T) {
	for _, in := range []string{"", "10", "ten minutes", "10 fortnights", "minutes", "1e3s", "1 day 2 hours", "110000000 days", "."} {
		t.Run(in, func(t *testing.T) {
			got, err := ParseDuration(in)
			if err == nil {
				t.Fatalf("ParseDuration(%q) = %v, want an error", in, got)
			}
			if !errors.Is(err, ErrDuration) {
				t.Errorf("error %v does not wrap ErrDuration", err)
			}
		})
	}
}

func TestFormatDuration(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want string
	}{
		{0, "0s"},
		{10 * time.Minute, "10m"},
		{time.Hour, "1h"},
		{90 * time.Minute, "1h30m"},
		{time.Hour + time.Second, "1h0m1s"},
		{10 * time.Second, "10s"},
		{100 * time.Millisecond, "100ms"},
	}
	for _, tt := range tests {
		got := FormatDuration(tt.in)
		if got != tt.want {
			t.Errorf("FormatDuration(%v) = %q, want %q", tt.in, got, tt.want)
		}
		back, err := ParseDuration(got)
		if err != nil || back != tt.in {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", got, back, err, tt.in)
		}
	}
	for _, d := range []time.Duration{math.MaxInt64, math.MinInt64, 1, -1} {
		back, err := ParseDuration(FormatDuration(d))
		if err != nil || back != d {
			t.Errorf("round trip of %d: %v, %v", d, back, err)
		}
	}
}
