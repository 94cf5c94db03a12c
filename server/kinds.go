package server

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/runtime/jscheck"
)

// normalizeKind is OpenWhisk's reading of exec.kind: trimmed, lower case.
func normalizeKind(kind string) string {
	return strings.ToLower(strings.TrimSpace(kind))
}

// unknownKind is OpenWhisk's 400 for a kind the manifest lacks, in its
// words, followed by builtInHint (a nodejs:20 asked of the embedded
// manifest learns what its nodejs kind is).
func (s *Server) unknownKind(requested string) error {
	msg := fmt.Sprintf("The specified runtime '%s' is not supported by this platform. Valid values are: %s.", requested, s.quotedKinds())
	return malformed(msg + s.builtInHint(normalizeKind(requested)))
}

// quotedKinds lists the kinds a PUT may name, as OpenWhisk quotes them.
func (s *Server) quotedKinds() string {
	quoted := make([]string, len(s.kinds))
	for i, k := range s.kinds {
		quoted[i] = "'" + k + "'"
	}
	return strings.Join(quoted, ", ")
}

// builtInHint says, when the built-in JavaScript kind is the default of
// kind's family (the embedded manifest's nodejs), what that kind is and
// where Node.js itself is to be had; else "". Where the family's default
// is another kind (the openwhisk preset's nodejs:20), the list of kinds
// says enough.
func (s *Server) builtInHint(kind string) string {
	fam := config.Family(kind)
	k, ok := s.cfg.RuntimesManifest.Manifest.BuiltInKind(fam)
	if !ok || !k.Default {
		return ""
	}
	return fmt.Sprintf(" This invoker's %s kind is '%s' (%s:default names it): JavaScript on goja, not Node.js. %s."+
		" OpenWhisk's official %s images are available with the openwhisk runtimes preset (runtimes-manifest.preset: openwhisk).",
		fam, k.Kind, fam, jscheck.Limits, fam)
}

// kindGone refuses to invoke an action whose stored kind the manifest no
// longer has (an action stored as nodejs:20 before the built-in kind was
// named js:goja, or under another manifest): prepare found no image for it,
// and the pool could only fail to create its container. The 400 says which
// kinds to update it with.
func (s *Server) kindGone(run *runnable) error {
	a := run.action
	if a.Kind == "blackbox" || a.Image != (config.ImageName{}) {
		return nil
	}
	msg := fmt.Sprintf("The action's kind '%s' is not in this invoker's runtimes manifest, so the action cannot run here: update it with one of the kinds served here, %s.", a.Kind, s.quotedKinds())
	return errorf(http.StatusBadRequest, "%s%s", msg, s.builtInHint(a.Kind))
}

// checkBuiltInCode refuses code of the built-in JavaScript kind that calls
// require, which would fail at every invoke: the 400 names the file, line
// and module, the kind's limits and what to do. Other kinds' code is not
// looked at, nor is code that does not parse (the runtime reports it at
// /init). It runs before the store's write transaction, since parsing
// large code takes a while.
func (s *Server) checkBuiltInCode(e *execPut) error {
	if e == nil || e.Code == nil {
		return nil
	}
	rk, err := s.cfg.RuntimesManifest.Manifest.ResolveKind(normalizeKind(e.Kind))
	if err != nil || !rk.BuiltIn() {
		return nil
	}
	code := string(*e.Code)
	if je := jscheck.Check(code, isBinary(code)); je != nil {
		return errorf(http.StatusBadRequest, "The action's code cannot run on kind '%s': %s. %s. %s.", rk.Kind, je, jscheck.Limits, jscheck.Advice)
	}
	return nil
}
