package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/store"
)

// OpenWhisk's size limits of an action's parts.
const (
	maxExecSize       = 48 << 20 // 50331648 bytes
	maxParamsSize     = 1 << 20
	maxAnnotationSize = 1 << 20
)

// actionPut is the body of an action PUT. Every field is optional; a nil
// pointer means "not given", which matters when updating.
type actionPut struct {
	Exec           *execPut          `json:"exec"`
	Parameters     *[]store.KeyValue `json:"parameters"`
	Limits         *limitsPut        `json:"limits"`
	Version        *string           `json:"version"`
	Publish        *bool             `json:"publish"`
	Annotations    *[]store.KeyValue `json:"annotations"`
	DelAnnotations []string          `json:"delAnnotations"`
}

type execPut struct {
	Kind       string      `json:"kind"`
	Code       *bodyString `json:"code"`
	Image      string      `json:"image"`
	Main       string      `json:"main"`
	Components []string    `json:"components"`
}

// limitsPut takes whole JSON numbers only: 1.5 fails to decode into int64.
type limitsPut struct {
	Timeout     *int64 `json:"timeout"`
	Memory      *int64 `json:"memory"`
	Logs        *int64 `json:"logs"`
	Concurrency *int64 `json:"concurrency"`
}

// decodeActionPut parses an action PUT body and checks the sizes of its
// parts (413) before anything else is validated.
func decodeActionPut(data []byte) (*actionPut, error) {
	var p actionPut
	if err := decodeUniqueJSON(data, &p); err != nil {
		return nil, err
	}
	if p.Exec != nil {
		n := len(p.Exec.Main) + len(p.Exec.Image)
		if p.Exec.Code != nil {
			n += len(*p.Exec.Code)
		}
		if n > maxExecSize {
			return nil, errorf(http.StatusRequestEntityTooLarge, "exec larger than allowed: %d > %d bytes.", n, maxExecSize)
		}
	}
	if p.Parameters != nil {
		if n := kvSize(*p.Parameters); n > maxParamsSize {
			return nil, errorf(http.StatusRequestEntityTooLarge, "parameters larger than allowed: %d > %d bytes.", n, maxParamsSize)
		}
	}
	if p.Annotations != nil {
		if n := kvSize(*p.Annotations); n > maxAnnotationSize {
			return nil, errorf(http.StatusRequestEntityTooLarge, "annotations larger than allowed: %d > %d bytes.", n, maxAnnotationSize)
		}
	}
	return &p, nil
}

// kvSize is OpenWhisk's size of parameters: key bytes plus compact value bytes.
func kvSize(kvs []store.KeyValue) int {
	n := 0
	for _, kv := range kvs {
		n += len(kv.Key)
		var b bytes.Buffer
		if json.Compact(&b, kv.Value) == nil {
			n += b.Len()
		} else {
			n += len(kv.Value)
		}
	}
	return n
}

// dedupe keeps the last value of each key, in the order keys first appear,
// and turns a missing value into null.
func dedupe(kvs []store.KeyValue) []store.KeyValue {
	idx := map[string]int{}
	out := make([]store.KeyValue, 0, len(kvs))
	for _, kv := range kvs {
		if len(kv.Value) == 0 {
			kv.Value = json.RawMessage("null")
		}
		if i, ok := idx[kv.Key]; ok {
			out[i] = kv
			continue
		}
		idx[kv.Key] = len(out)
		out = append(out, kv)
	}
	return out
}

// setAnnotation replaces or appends key.
func setAnnotation(kvs []store.KeyValue, key string, value json.RawMessage) []store.KeyValue {
	for i := range kvs {
		if kvs[i].Key == key {
			kvs[i].Value = value
			return kvs
		}
	}
	return append(kvs, store.KeyValue{Key: key, Value: value})
}

func hasKey(kvs []store.KeyValue, key string) bool {
	for _, kv := range kvs {
		if kv.Key == key {
			return true
		}
	}
	return false
}

// isBinary is OpenWhisk's rule: trimmed code that is non-empty standard
// base64 of a length that is a multiple of 4.
func isBinary(code string) bool {
	c := strings.TrimSpace(code)
	if c == "" || len(c)%4 != 0 {
		return false
	}
	pad := 0
	for i := 0; i < len(c); i++ {
		ch := c[i]
		switch {
		case ch == '=':
			pad++
		case pad > 0:
			return false // data after padding
		case (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '+' || ch == '/':
		default:
			return false
		}
	}
	return pad <= 2
}

// manifestKinds lists the kinds a PUT may name, for the error message.
func manifestKinds(m config.Manifest) []string {
	kinds := m.Kinds()
	for fam, ks := range m.Runtimes {
		if slices.ContainsFunc(ks, func(k config.RuntimeKind) bool { return k.Default }) {
			kinds = append(kinds, fam+":default")
		}
	}
	sort.Strings(kinds)
	return append(kinds, "blackbox")
}

// resolveExec validates a requested exec against the manifest and returns
// the stored form.
func (s *Server) resolveExec(e *execPut) (store.Exec, error) {
	kind := normalizeKind(e.Kind)
	if kind == "blackbox" {
		if strings.TrimSpace(e.Image) == "" {
			return store.Exec{}, malformed("'image' must be a string defined in 'exec' for 'blackbox' actions")
		}
		out := store.Exec{Kind: kind, Image: strings.TrimSpace(e.Image), Main: e.Main}
		if e.Code != nil && *e.Code != "" {
			code := string(*e.Code)
			out.Code = &code
			out.Binary = isBinary(code)
		}
		return out, nil
	}
	rk, err := s.cfg.RuntimesManifest.Manifest.ResolveKind(kind)
	if err != nil || kind == "" {
		return store.Exec{}, s.unknownKind(e.Kind)
	}
	if e.Code == nil {
		return store.Exec{}, malformed(fmt.Sprintf("'code' must be a string defined in 'exec' for '%s' actions", rk.Kind))
	}
	if rk.RequireMain && e.Main == "" {
		return store.Exec{}, malformed(fmt.Sprintf("'main' must be a string defined in 'exec' for '%s' actions", rk.Kind))
	}
	code := string(*e.Code)
	return store.Exec{Kind: rk.Kind, Code: &code, Main: e.Main, Binary: isBinary(code)}, nil
}

// checkLimits validates limits against the configured ranges, with
// OpenWhisk's messages.
func (s *Server) checkLimits(l store.Limits) error {
	c := s.cfg.Limits
	bad := func(format string, args ...any) error { return errorf(http.StatusBadRequest, format, args...) }
	switch {
	case l.Memory > c.Memory.Max.MBs():
		return bad("memory size %d MB exceeds allowed threshold of %d MB", l.Memory, c.Memory.Max.MBs())
	case l.Memory < c.Memory.Min.MBs():
		return bad("memory size %d MB below allowed threshold of %d MB", l.Memory, c.Memory.Min.MBs())
	case l.Logs > c.Log.Max.MBs():
		return bad("log size %d MB exceeds allowed threshold of %d MB", l.Logs, c.Log.Max.MBs())
	case l.Logs < c.Log.Min.MBs():
		return bad("log size %d MB below allowed threshold of %d MB", l.Logs, c.Log.Min.MBs())
	case l.Timeout > c.Time.Max.Milliseconds():
		return bad("duration %d milliseconds exceeds allowed threshold of %d milliseconds", l.Timeout, c.Time.Max.Milliseconds())
	case l.Timeout < c.Time.Min.Milliseconds():
		return bad("duration %d milliseconds below allowed threshold of %d milliseconds", l.Timeout, c.Time.Min.Milliseconds())
	case l.Concurrency > int64(c.Concurrency.Max):
		return bad("concurrency %d exceeds allowed threshold of %d", l.Concurrency, c.Concurrency.Max)
	case l.Concurrency < int64(c.Concurrency.Min):
		return bad("concurrency %d below allowed threshold of %d", l.Concurrency, c.Concurrency.Min)
	}
	return nil
}

func (s *Server) defaultLimits() store.Limits {
	c := s.cfg.Limits
	return store.Limits{
		Timeout: c.Time.Std.Milliseconds(), Memory: c.Memory.Std.MBs(),
		Logs: c.Log.Std.MBs(), Concurrency: int64(c.Concurrency.Std),
	}
}

// nextVersion bumps the patch of a major.minor.patch version.
func nextVersion(v string) string {
	parts := strings.Split(v, ".")
	if len(parts) == 3 {
		if n, err := strconv.Atoi(parts[2]); err == nil {
			return parts[0] + "." + parts[1] + "." + strconv.Itoa(n+1)
		}
	}
	return "0.0.1"
}

// mergeAction applies a PUT to the current document (nil: create).
func (s *Server) mergeAction(old *store.Action, p *actionPut, ns string, path actionPath, overwrite bool, now int64) (*store.Action, error) {
	if old != nil && !overwrite {
		return nil, errorf(http.StatusConflict, "%s", msgExists)
	}
	var a store.Action
	if old == nil {
		if p.Exec == nil {
			return nil, errorf(http.StatusBadRequest, "%s", msgExecUndefined)
		}
		a = store.Action{Version: "0.0.1", Parameters: []store.KeyValue{}, Limits: s.defaultLimits(), Annotations: []store.KeyValue{}}
	} else {
		a = *old
		a.Version = nextVersion(old.Version)
		a.Annotations = append([]store.KeyValue(nil), old.Annotations...)
	}
	a.Namespace = ns
	if path.pkg != "" {
		a.Namespace = ns + "/" + path.pkg
	}
	a.Name = path.name
	if p.Exec != nil {
		e, err := s.resolveExec(p.Exec)
		if err != nil {
			return nil, err
		}
		a.Exec = e
	}
	if p.Parameters != nil {
		a.Parameters = dedupe(*p.Parameters)
	}
	if p.Limits != nil {
		if v := p.Limits.Timeout; v != nil {
			a.Limits.Timeout = *v
		}
		if v := p.Limits.Memory; v != nil {
			a.Limits.Memory = *v
		}
		if v := p.Limits.Logs; v != nil {
			a.Limits.Logs = *v
		}
		if v := p.Limits.Concurrency; v != nil {
			a.Limits.Concurrency = *v
		}
	}
	if err := s.checkLimits(a.Limits); err != nil {
		return nil, err
	}
	if p.Publish != nil {
		a.Publish = *p.Publish
	}
	if p.Version != nil {
		a.Version = *p.Version
	}
	if old != nil && len(p.DelAnnotations) > 0 {
		drop := map[string]bool{}
		for _, k := range p.DelAnnotations {
			drop[k] = true
		}
		kept := a.Annotations[:0]
		for _, kv := range a.Annotations {
			if !drop[kv.Key] {
				kept = append(kept, kv)
			}
		}
		a.Annotations = kept
	}
	if p.Annotations != nil {
		for _, kv := range dedupe(*p.Annotations) {
			a.Annotations = setAnnotation(a.Annotations, kv.Key, kv.Value)
		}
	}
	if old == nil && !hasKey(a.Annotations, "provide-api-key") {
		a.Annotations = append(a.Annotations, store.KeyValue{Key: "provide-api-key", Value: json.RawMessage("false")})
	}
	for _, kv := range a.Annotations {
		if kv.Key == "web-export" && truthy(kv.Value) {
			return nil, errorf(http.StatusNotImplemented, "%s", msgWebExportPut)
		}
	}
	kind, _ := json.Marshal(a.Exec.Kind)
	a.Annotations = setAnnotation(a.Annotations, "exec", kind)
	a.Updated = now
	return &a, nil
}
