package config

import "time"

// Manifest is a runtimes manifest in OpenWhisk's runtimes.json shape.
type Manifest struct {
	// Description is free text; OpenWhisk's stock file carries one.
	Description []string                 `json:"description,omitempty"`
	Runtimes    map[string][]RuntimeKind `json:"runtimes"`   // family -> kinds
	Blackboxes  []ImageName              `json:"blackboxes"` // images that count as native
}

// RuntimeKind is one kind of a runtime family, e.g. "js:goja" or "nodejs:20".
type RuntimeKind struct {
	Kind            string     `json:"kind"`
	Default         bool       `json:"default,omitempty"`
	Image           ImageName  `json:"image"`
	Deprecated      bool       `json:"deprecated,omitempty"`
	RequireMain     bool       `json:"requireMain,omitempty"`
	SentinelledLogs *bool      `json:"sentinelledLogs,omitempty"` // nil means true
	Attached        *Attached  `json:"attached,omitempty"`
	StemCells       []StemCell `json:"stemCells,omitempty"`
}

// Attached names the attachment of a kind whose code is stored apart.
type Attached struct {
	AttachmentName string `json:"attachmentName"`
	AttachmentType string `json:"attachmentType"`
}

// ImageName is an image reference split as OpenWhisk splits it.
type ImageName struct {
	Prefix string `json:"prefix,omitempty"`
	Name   string `json:"name"`
	Tag    string `json:"tag,omitempty"`
}

// StemCell is the prewarm configuration of a kind.
type StemCell struct {
	InitialCount int             `json:"initialCount"` // alias "count"
	Memory       ByteSize        `json:"memory"`
	Reactive     *ReactiveConfig `json:"reactive,omitempty"`
}

// ReactiveConfig sizes a stem cell's stock from recent cold starts.
type ReactiveConfig struct {
	MinCount  int           `json:"minCount"`
	MaxCount  int           `json:"maxCount"`
	TTL       time.Duration `json:"ttl"`
	Threshold int           `json:"threshold"`
	Increment int           `json:"increment"`
}
