package server

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"sync"
	"time"

	"github.com/stemcell-io/stemcell/actors"
	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/store"
)

// runnable is an action prepared for invocation: what every activation of
// it needs, computed once per version instead of once per request.
type runnable struct {
	doc        *store.Action
	action     actors.Action
	params     map[string]json.RawMessage // default parameters passed at /run
	initEnv    map[string]string          // parameters marked init, passed at /init
	final      bool                       // annotation final: body may not override parameters
	provideKey bool                       // pass the caller's key as __OW_API_KEY
	// Precomputed annotations of every activation record.
	pathAnn, kindAnn, limitsAnn json.RawMessage
}

// actionCache holds runnables by namespace and path. An entry is forgotten
// on every PUT and DELETE through this server and, when other processes
// write the actions too (cluster mode), on every change the Actions reports
// (ActionChanges); gen stops a lookup that read the store before a write
// from caching what it read.
type actionCache struct {
	mu  sync.RWMutex
	gen uint64
	m   map[string]*runnable
}

func cacheKey(ns, path string) string { return ns + "\x00" + path }

func (c *actionCache) get(ns, path string) (*runnable, uint64) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.m[cacheKey(ns, path)], c.gen
}

func (c *actionCache) put(ns, path string, r *runnable, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if c.m == nil {
		c.m = map[string]*runnable{}
	}
	c.m[cacheKey(ns, path)] = r
}

func (c *actionCache) forget(ns, path string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	delete(c.m, cacheKey(ns, path))
}

// runnable returns the action at ns/path ready to invoke.
func (s *Server) runnable(ns string, p actionPath) (*runnable, error) {
	path := p.String()
	r, gen := s.actions.get(ns, path)
	if r != nil {
		return r, nil
	}
	doc, err := s.docs.GetAction(ns, path)
	if err != nil {
		return nil, notFoundOr(err)
	}
	r = s.prepare(ns, doc)
	s.actions.put(ns, path, r, gen)
	return r, nil
}

// prepare turns a stored document into a runnable.
func (s *Server) prepare(ns string, doc *store.Action) *runnable {
	e := doc.Exec
	code := ""
	if e.Code != nil {
		code = *e.Code
	}
	a := actors.Action{
		Namespace: doc.Namespace, Name: doc.Name, Version: doc.Version,
		Kind: e.Kind, Main: e.Main, Code: code, Binary: e.Binary,
		Limits: actors.ActionLimits{
			Memory:         config.ByteSize(doc.Limits.Memory) * config.MB,
			Timeout:        time.Duration(doc.Limits.Timeout) * time.Millisecond,
			MaxConcurrency: int(max(doc.Limits.Concurrency, 1)),
			Logs:           config.ByteSize(doc.Limits.Logs) * config.MB,
		},
	}
	if e.Kind == "blackbox" {
		a.Image = parseImage(e.Image)
		a.UserProvided = !s.cfg.RuntimesManifest.Manifest.IsBlackbox(a.Image)
	} else if rk, err := s.cfg.RuntimesManifest.Manifest.ResolveKind(e.Kind); err == nil {
		a.Image = rk.Image
	}
	h := sha256.New()
	for _, part := range []string{e.Kind, e.Image, e.Main, code} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	a.Digest = hex.EncodeToString(h.Sum(nil)[:16])

	r := &runnable{doc: doc, action: a, params: map[string]json.RawMessage{}, provideKey: true}
	for _, kv := range doc.Parameters {
		if kv.Init {
			if r.initEnv == nil {
				r.initEnv = map[string]string{}
			}
			r.initEnv[kv.Key] = stringify(kv.Value)
			continue
		}
		r.params[kv.Key] = kv.Value
	}
	for _, kv := range doc.Annotations {
		switch kv.Key {
		case "final":
			r.final = truthy(kv.Value)
		case "provide-api-key":
			r.provideKey = truthy(kv.Value)
		}
	}
	r.pathAnn, _ = json.Marshal(doc.Namespace + "/" + doc.Name)
	r.kindAnn, _ = json.Marshal(e.Kind)
	r.limitsAnn, _ = json.Marshal(doc.Limits)
	return r
}

// stringify gives a parameter's value as an environment variable: strings
// as they are, anything else as JSON text.
func stringify(v json.RawMessage) string {
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s
	}
	return string(v)
}

// truthy follows JavaScript-like truth for annotation values, as OpenWhisk
// reads them: false, null, 0 and "" are false.
func truthy(v json.RawMessage) bool {
	switch strings.TrimSpace(string(v)) {
	case "false", "null", "0", `""`, "":
		return false
	}
	return true
}

// parseImage splits "prefix/name:tag" as OpenWhisk does.
func parseImage(ref string) config.ImageName {
	var img config.ImageName
	rest := ref
	if i := strings.LastIndexByte(rest, '/'); i >= 0 {
		img.Prefix, rest = rest[:i], rest[i+1:]
	}
	if i := strings.LastIndexByte(rest, ':'); i >= 0 {
		rest, img.Tag = rest[:i], rest[i+1:]
	}
	img.Name = rest
	return img
}
