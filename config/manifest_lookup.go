package config

import (
	"errors"
	"fmt"
	"strings"
)

// ErrUnknownKind is wrapped by ResolveKind when the manifest lacks a kind.
var ErrUnknownKind = errors.New("not in the runtimes manifest")

// String prints the image as "prefix/name:tag", leaving out empty parts.
// The Docker factory adds the registry (factory.ImageRef).
func (i ImageName) String() string {
	s := i.Name
	if p := strings.Trim(i.Prefix, "/"); p != "" {
		s = p + "/" + s
	}
	if i.Tag != "" {
		s += ":" + i.Tag
	}
	return s
}

// sameImage compares images the way a registry does: an empty tag is "latest".
func sameImage(a, b ImageName) bool {
	tag := func(t string) string {
		if t == "" {
			return "latest"
		}
		return t
	}
	return strings.Trim(a.Prefix, "/") == strings.Trim(b.Prefix, "/") && a.Name == b.Name && tag(a.Tag) == tag(b.Tag)
}

// ResolveKind finds a kind; "family:default" (e.g. "nodejs:default") names
// the family's default kind. A deprecated kind resolves too: callers decide
// what deprecation means for them.
func (m Manifest) ResolveKind(kind string) (RuntimeKind, error) {
	if fam, ok := strings.CutSuffix(kind, ":default"); ok {
		for _, k := range m.Runtimes[fam] {
			if k.Default {
				return k, nil
			}
		}
		return RuntimeKind{}, fmt.Errorf("kind %q: family %q has no default kind: %w", kind, fam, ErrUnknownKind)
	}
	for _, fam := range m.families() {
		for _, k := range m.Runtimes[fam] {
			if k.Kind == kind {
				return k, nil
			}
		}
	}
	return RuntimeKind{}, fmt.Errorf("kind %q: %w", kind, ErrUnknownKind)
}

// IsBlackbox reports whether img is listed in blackboxes: such an image is
// "native" (never pulled, sentinelled logs), as OpenWhisk treats it.
func (m Manifest) IsBlackbox(img ImageName) bool {
	for _, b := range m.Blackboxes {
		if sameImage(b, img) {
			return true
		}
	}
	return false
}

// Sentinelled reports whether the kind's runtime writes log sentinels; an
// absent sentinelledLogs means true, as in OpenWhisk.
func (k RuntimeKind) Sentinelled() bool {
	return k.SentinelledLogs == nil || *k.SentinelledLogs
}

// StemCellSpec is one stem cell of the manifest with its kind and image:
// what the prewarm scheduler keeps in stock.
type StemCellSpec struct {
	Kind         string
	Image        ImageName
	Memory       ByteSize
	InitialCount int
	Reactive     *ReactiveConfig // nil: a fixed stock of InitialCount
}

// StemCells lists every stem cell, by family name and then manifest order.
func (m Manifest) StemCells() []StemCellSpec {
	var out []StemCellSpec
	for _, fam := range m.families() {
		for _, k := range m.Runtimes[fam] {
			for _, sc := range k.StemCells {
				var r *ReactiveConfig
				if sc.Reactive != nil {
					c := *sc.Reactive
					r = &c
				}
				out = append(out, StemCellSpec{Kind: k.Kind, Image: k.Image, Memory: sc.Memory, InitialCount: sc.InitialCount, Reactive: r})
			}
		}
	}
	return out
}
