package server

import (
	"net/http"
	"net/http/pprof"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog/hlog"
)

// Handler returns the daemon's whole HTTP handler: the API under /api/v1,
// the operations endpoints, one access log line per request carrying a
// request id (the X-Request-Id header, error bodies' code, and the
// transaction id of the request's activation).
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/api/", s.serveAPI)
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("/readyz", s.serveReady)
	mux.Handle("/metrics", promhttp.HandlerFor(s.gatherer, promhttp.HandlerOpts{}))
	mux.HandleFunc("/v1/pool", s.servePool)
	if s.scfg.Pprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	var h http.Handler = mux
	h = hlog.AccessHandler(func(r *http.Request, status, size int, d time.Duration) {
		s.metrics.observe(r.Method, status, d)
		hlog.FromRequest(r).Info().Str("method", r.Method).Stringer("url", r.URL).
			Int("status", status).Int("size", size).Dur("dur", d).Msg("http")
	})(h)
	h = hlog.RemoteAddrHandler("ip")(h)
	h = hlog.UserAgentHandler("ua")(h)
	h = hlog.RequestIDHandler("req_id", "X-Request-Id")(h)
	h = hlog.NewHandler(s.log)(h)
	return h
}

// serveAPI routes /api/v1/...; paths carry entity names that may hold
// escaped characters, so it splits the escaped path itself.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	setCORS(w.Header())
	if r.Method == http.MethodOptions {
		w.WriteHeader(http.StatusOK)
		return
	}
	segs, err := splitPath(r.URL.EscapedPath())
	if err != nil {
		writeError(w, r, err)
		return
	}
	// segs[0] == "api"
	if len(segs) < 2 || segs[1] != "v1" {
		writeError(w, r, errorf(http.StatusNotFound, "%s", msgNoRoute))
		return
	}
	rest := segs[2:]
	if len(rest) == 0 || (len(rest) == 1 && rest[0] == "") {
		if r.Method != http.MethodGet {
			writeError(w, r, errorf(http.StatusMethodNotAllowed, msgMethodNotAllow, "GET"))
			return
		}
		s.serveInfo(w, r)
		return
	}
	if rest[0] == "web" {
		writeError(w, r, notServed(webWhat(rest)))
		return
	}
	if rest[0] != "namespaces" {
		writeError(w, r, errorf(http.StatusNotFound, "%s", msgNoRoute))
		return
	}
	id, err := s.keys.authenticate(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if r.Method != http.MethodGet && !s.accepting.Load() {
		writeError(w, r, errorf(http.StatusServiceUnavailable, "%s", msgUnavailable))
		return
	}
	rest = rest[1:]
	if len(rest) == 0 || (len(rest) == 1 && rest[0] == "") {
		if r.Method != http.MethodGet {
			writeError(w, r, errorf(http.StatusMethodNotAllowed, msgMethodNotAllow, "GET"))
			return
		}
		writeJSON(w, http.StatusOK, []string{id.Namespace})
		return
	}
	ns := rest[0]
	if ns == "_" {
		ns = id.Namespace
	} else if err := checkNamespace(ns); err != nil {
		writeError(w, r, err)
		return
	}
	rest = rest[1:]
	if len(rest) == 0 {
		writeError(w, r, errorf(http.StatusNotFound, "%s", msgNoRoute))
		return
	}
	coll, rest := rest[0], rest[1:]
	// A trailing slash on a collection is the collection.
	if len(rest) == 1 && rest[0] == "" {
		rest = nil
	}
	if ns != id.Namespace {
		target := ns
		if len(rest) > 0 {
			target += "/" + strings.Join(rest, "/")
		}
		writeError(w, r, errorf(http.StatusForbidden, msgForbidden, target))
		return
	}
	switch coll {
	case "actions":
		s.routeActions(w, r, id, ns, rest)
	case "activations":
		s.routeActivations(w, r, ns, rest)
	case "packages", "triggers", "rules":
		// Not served, but wsk list reads them: their lists are empty, and
		// anything else says plainly that they are not served.
		if len(rest) > 0 || r.Method != http.MethodGet {
			writeError(w, r, notServed(coll))
			return
		}
		writeRaw(w, http.StatusOK, []byte("[]"))
	default:
		writeError(w, r, errorf(http.StatusNotFound, "%s", msgNoRoute))
	}
}

func (s *Server) routeActions(w http.ResponseWriter, r *http.Request, id *Identity, ns string, rest []string) {
	// ".../actions/pkg/" lists one package.
	if len(rest) == 0 || (len(rest) == 2 && rest[1] == "") {
		if r.Method != http.MethodGet {
			writeError(w, r, errorf(http.StatusMethodNotAllowed, msgMethodNotAllow, "GET"))
			return
		}
		pkg := ""
		if len(rest) == 2 {
			if err := checkName(rest[0]); err != nil {
				writeError(w, r, err)
				return
			}
			pkg = rest[0]
		}
		s.listActions(w, r, ns, pkg)
		return
	}
	p, err := parseActionPath(rest)
	if err != nil {
		writeError(w, r, err)
		return
	}
	switch r.Method {
	case http.MethodGet:
		s.getAction(w, r, ns, p)
	case http.MethodPut:
		s.putAction(w, r, ns, p)
	case http.MethodDelete:
		s.deleteAction(w, r, ns, p)
	case http.MethodPost:
		if s.fwd != nil {
			s.forwardInvoke(w, r, id, ns, p)
			return
		}
		s.invoke(w, r, id, ns, p)
	default:
		writeError(w, r, errorf(http.StatusMethodNotAllowed, msgMethodNotAllow, "GET, PUT, DELETE, POST"))
	}
}

func (s *Server) routeActivations(w http.ResponseWriter, r *http.Request, ns string, rest []string) {
	if r.Method != http.MethodGet {
		writeError(w, r, errorf(http.StatusMethodNotAllowed, msgMethodNotAllow, "GET"))
		return
	}
	switch {
	case len(rest) == 0:
		s.listActivations(w, r, ns)
	case len(rest) == 1:
		s.getActivation(w, r, ns, rest[0], "")
	case len(rest) == 2 && (rest[1] == "result" || rest[1] == "logs"):
		s.getActivation(w, r, ns, rest[0], rest[1])
	default:
		writeError(w, r, errorf(http.StatusNotFound, "%s", msgNoRoute))
	}
}

func setCORS(h http.Header) {
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Allow-Methods", "GET, DELETE, POST, PUT, HEAD")
	h.Set("Access-Control-Allow-Headers", "Authorization, Origin, X-Requested-With, Content-Type, Accept, User-Agent")
}

// BuildDateLayout is the form of OpenWhisk's build date, which GET /api/v1
// reports as build (wsk property get --apibuild prints it).
const BuildDateLayout = "2006-01-02T15:04:05Z"

// notServed answers requests for entities the daemon does not have. 501
// rather than 400: the request is good OpenWhisk, and it is this server that
// lacks the feature; 404 would read as a typo in a name.
func notServed(what string) *apiError {
	return errorf(http.StatusNotImplemented, msgNotServed, what)
}

// webWhat names what a /api/v1/web/... request asks for: the API gateway's
// management actions (wsk api) or a web action.
func webWhat(rest []string) string {
	if len(rest) >= 3 && rest[1] == "whisk.system" && (rest[2] == "apimgmt" || rest[2] == "routemgmt") {
		return "APIs (the API gateway)"
	}
	return "web actions"
}

func (s *Server) serveInfo(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"description": "OpenWhisk API", "api_version": "1.0.0", "api_version_path": "v1",
		"build": s.build, "buildno": s.buildNo,
		"swagger_paths": map[string]string{"ui": "/docs", "api-docs": "/api-docs"},
	})
}
