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
// words, followed, when the kind's family has the built-in JavaScript kind
// (a nodejs:20 asked of the default manifest), by what that kind is and
// where Node.js itself is to be had.
func (s *Server) unknownKind(requested string) error {
	quoted := make([]string, len(s.kinds))
	for i, k := range s.kinds {
		quoted[i] = "'" + k + "'"
	}
	msg := fmt.Sprintf("The specified runtime '%s' is not supported by this platform. Valid values are: %s.", requested, strings.Join(quoted, ", "))
	fam := config.Family(normalizeKind(requested))
	if k, ok := s.cfg.RuntimesManifest.Manifest.BuiltInKind(fam); ok {
		msg += fmt.Sprintf(" This invoker's %s kind is '%s' (%s:default names it): JavaScript on goja, not Node.js. %s."+
			" OpenWhisk's official %s images are available with the openwhisk runtimes preset (runtimes-manifest.preset: openwhisk).",
			fam, k.Kind, fam, jscheck.Limits, fam)
	}
	return malformed(msg)
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
