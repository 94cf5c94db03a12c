package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// decodeStrict decodes one JSON value into v, rejecting unknown fields and
// trailing data: a misspelt field must not silently fall back to a default.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("unexpected data after the JSON value")
	}
	return nil
}

// UnmarshalJSON accepts the old name "count" for "initialCount" (OpenWhisk
// still reads both), but not both at once.
func (s *StemCell) UnmarshalJSON(data []byte) error {
	var raw struct {
		InitialCount *int            `json:"initialCount"`
		Count        *int            `json:"count"`
		Memory       ByteSize        `json:"memory"`
		Reactive     *ReactiveConfig `json:"reactive"`
	}
	if err := decodeStrict(data, &raw); err != nil {
		return fmt.Errorf("stem cell: %w", err)
	}
	if raw.InitialCount != nil && raw.Count != nil {
		return errors.New("stem cell: sets both initialCount and its old name count; keep one")
	}
	*s = StemCell{Memory: raw.Memory, Reactive: raw.Reactive}
	switch {
	case raw.InitialCount != nil:
		s.InitialCount = *raw.InitialCount
	case raw.Count != nil:
		s.InitialCount = *raw.Count
	}
	return nil
}

// UnmarshalJSON reads ttl in Go's or OpenWhisk's form ("2 minutes").
func (r *ReactiveConfig) UnmarshalJSON(data []byte) error {
	var raw struct {
		MinCount  int             `json:"minCount"`
		MaxCount  int             `json:"maxCount"`
		TTL       json.RawMessage `json:"ttl"`
		Threshold int             `json:"threshold"`
		Increment int             `json:"increment"`
	}
	if err := decodeStrict(data, &raw); err != nil {
		return fmt.Errorf("reactive: %w", err)
	}
	*r = ReactiveConfig{MinCount: raw.MinCount, MaxCount: raw.MaxCount, Threshold: raw.Threshold, Increment: raw.Increment}
	if len(raw.TTL) == 0 || string(raw.TTL) == "null" {
		return nil // validation reports the missing ttl with its path
	}
	text := string(raw.TTL)
	if raw.TTL[0] == '"' {
		if err := json.Unmarshal(raw.TTL, &text); err != nil {
			return fmt.Errorf("reactive.ttl: %w", err)
		}
	}
	ttl, err := ParseDuration(text)
	if err != nil {
		return fmt.Errorf("reactive.ttl: %w", err)
	}
	r.TTL = ttl
	return nil
}

// MarshalJSON writes ttl as a duration string, so the result reads back.
func (r ReactiveConfig) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		MinCount  int    `json:"minCount"`
		MaxCount  int    `json:"maxCount"`
		TTL       string `json:"ttl"`
		Threshold int    `json:"threshold"`
		Increment int    `json:"increment"`
	}{r.MinCount, r.MaxCount, FormatDuration(r.TTL), r.Threshold, r.Increment})
}
