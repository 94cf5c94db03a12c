package runtime

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/stemcell-io/stemcell/runtime/jscheck"
)

// initValue is the "value" of an /init body.
type initValue struct {
	Name   string                     `json:"name"`
	Main   string                     `json:"main"`
	Binary bool                       `json:"binary"`
	Code   *string                    `json:"code"`
	Env    map[string]json.RawMessage `json:"env"`
}

// actionCode is a parsed /init: what to run and how to start it.
type actionCode struct {
	name   string
	main   string
	env    map[string]string // the init env, stringified
	native []byte            // the executable or a zip holding "exec"; nil for JavaScript
	isZip  bool
	source string // JavaScript source when native is nil
}

func (s *Server) handleInit(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if s.state != stateEmpty {
		s.mu.Unlock()
		writeError(w, http.StatusForbidden, errors.New("/init: the action is already initialized: a runtime accepts one /init"))
		return
	}
	s.state = stateInitializing
	s.mu.Unlock()

	wd := s.mem.watch(r.Context())
	exec, err := s.initialize(wd.ctx, w, r)
	exhausted := wd.exhausted(err)
	wd.done()
	s.mu.Lock()
	if err != nil {
		// A failed /init loads nothing, so the invoker may try again.
		s.state = stateEmpty
		s.mu.Unlock()
		// As OpenWhisk's runtimes do: the reason goes to the log, and the
		// sentinels after it tell the invoker's log collector that nothing
		// more of this activation will come, so it neither waits for more
		// nor loses what is still on its way when the answer overtakes it.
		if !exhausted { // the memory watch wrote its own line
			s.stderr.writeLine(err.Error())
		}
		writeSentinels(s.stdout, s.stderr)
		if exhausted {
			writeMemoryExhausted(w)
			return
		}
		writeError(w, statusOf(err), err)
		return
	}
	s.state, s.exec = stateReady, exec
	s.mu.Unlock()
	writeBody(w, http.StatusOK, []byte(`{"ok":true}`))
}

// initialize parses an /init body and loads the action it carries.
func (s *Server) initialize(ctx context.Context, w http.ResponseWriter, r *http.Request) (executor, error) {
	body, err := s.readBody(w, r)
	if err != nil {
		return nil, err
	}
	code, err := parseInit(body)
	if err != nil {
		return nil, err
	}
	env := mergeEnv(s.opts.Environ, code.env)
	if code.native != nil {
		return startNative(code, env, s.opts.TempDir, s.stdout, s.stderr)
	}
	return newJSAction(ctx, code, env, s.jsGlobals, s.stdout, s.stderr)
}

// parseInit validates an /init body and decides the action's kind: binary
// code that is an ELF executable, or a zip with an "exec" entry at its root,
// is native; everything else is JavaScript. jscheck.Check follows the same
// rules to find the JavaScript the server examines at create.
func parseInit(body []byte) (*actionCode, error) {
	var req struct {
		Value *initValue `json:"value"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, withStatus(http.StatusBadRequest, fmt.Errorf("/init: request body is not a valid JSON object: %w", err))
	}
	v := req.Value
	if v == nil {
		return nil, withStatus(http.StatusBadRequest, errors.New(`/init: request body has no "value" object`))
	}
	if v.Code == nil || *v.Code == "" {
		return nil, withStatus(http.StatusBadRequest, errors.New(`/init: "value.code" is missing or empty: the action has no code`))
	}
	code := &actionCode{name: v.Name, main: v.Main, env: stringifyEnv(v.Env)}
	if code.main == "" {
		code.main = "main"
	}
	if code.name == "" {
		code.name = "action"
	}
	if !v.Binary {
		code.source = *v.Code
		return code, nil
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(*v.Code))
	if err != nil {
		return nil, withStatus(http.StatusBadRequest, fmt.Errorf(`/init: "value.code" with "binary": true is not valid base64: %w`, err))
	}
	if bytes.HasPrefix(raw, []byte("\x7fELF")) {
		code.native = raw
		return code, nil
	}
	zr, zerr := zip.NewReader(bytes.NewReader(raw), int64(len(raw)))
	if zerr != nil {
		// Binary but neither an executable nor an archive: JavaScript text.
		code.source = string(raw)
		return code, nil
	}
	if jscheck.ZipEntry(zr, "exec") != nil {
		code.native, code.isZip = raw, true
		return code, nil
	}
	src, err := jsSourceFromZip(zr)
	if err != nil {
		return nil, actionError("/init: zip archive: %w", err)
	}
	code.source = src
	return code, nil
}

// jsSourceFromZip reads a zipped JavaScript action's entry file
// (jscheck.EntryName). The runtime has no require, so that one file must
// hold the whole action.
func jsSourceFromZip(zr *zip.Reader) (string, error) {
	entry, err := jscheck.EntryName(zr)
	if err != nil {
		return "", err
	}
	f := jscheck.ZipEntry(zr, entry)
	if f == nil {
		return "", fmt.Errorf("no %q entry: a native action needs an executable named exec at the root, a JavaScript action index.js or the file package.json names", entry)
	}
	src, err := readZipFile(f)
	return string(src), err
}

func readZipFile(f *zip.File) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("opening %q: %w", f.Name, err)
	}
	defer rc.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(rc); err != nil {
		return nil, fmt.Errorf("reading %q: %w", f.Name, err)
	}
	return buf.Bytes(), nil
}

// stringifyEnv turns init env values into strings: strings as they are,
// anything else as its JSON text (the invoker already sends strings).
func stringifyEnv(in map[string]json.RawMessage) map[string]string {
	out := make(map[string]string, len(in))
	for k, raw := range in {
		out[k] = jsonText(raw)
	}
	return out
}

// mergeEnv overlays extra on a KEY=value list and returns the result as a
// map.
func mergeEnv(base []string, extra map[string]string) map[string]string {
	env := make(map[string]string, len(base)+len(extra))
	for _, kv := range base {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	for k, v := range extra {
		env[k] = v
	}
	return env
}

// envList renders an env map as a sorted KEY=value list.
func envList(env map[string]string) []string {
	list := make([]string, 0, len(env))
	for k, v := range env {
		list = append(list, k+"="+v)
	}
	sort.Strings(list)
	return list
}
