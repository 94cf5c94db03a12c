package server

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/stemcell-io/stemcell/store"
)

func (s *Server) listActivations(w http.ResponseWriter, r *http.Request, ns string) {
	q := r.URL.Query()
	limit, skip, err := parsePaging(q, "activations")
	if err != nil {
		writeError(w, r, err)
		return
	}
	docs, err := parseBool(q, "docs")
	if err != nil {
		writeError(w, r, err)
		return
	}
	count, err := parseBool(q, "count")
	if err != nil {
		writeError(w, r, err)
		return
	}
	if docs && count {
		writeError(w, r, errorf(http.StatusBadRequest, "The parameter 'docs' is not permitted with 'count'."))
		return
	}
	query := store.Query{Namespace: ns, Skip: skip, Limit: limit}
	for _, b := range []struct {
		name string
		dst  *int64
	}{{"since", &query.Since}, {"upto", &query.Upto}} {
		v := q.Get(b.name)
		if v == "" {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			writeError(w, r, queryError(b.name, "Parameter is not a valid value for epoch seconds: "+v))
			return
		}
		*b.dst = n
	}
	if name := q.Get("name"); name != "" {
		segs := strings.Split(name, "/")
		if _, err := parseActionPath(segs); err != nil || len(segs) > 2 {
			writeError(w, r, queryError("name", "Parameter may be a 'simple' name or 'package-name/simple' name: "+name))
			return
		}
		query.Name = name
	}
	if count {
		n, err := s.store.CountActivations(query)
		if err != nil {
			writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]int{"activations": n})
		return
	}
	list, err := s.store.ListActivations(query)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if docs {
		writeJSON(w, http.StatusOK, list)
		return
	}
	out := make([]store.Summary, len(list))
	for i := range list {
		out[i] = list[i].Summarize()
	}
	writeJSON(w, http.StatusOK, out)
}

// getActivation serves a record, or its result or logs part.
func (s *Server) getActivation(w http.ResponseWriter, r *http.Request, ns, id, part string) {
	if err := checkActivationID(id); err != nil {
		writeError(w, r, err)
		return
	}
	rec, err := s.store.GetActivation(ns, id)
	if err != nil {
		writeError(w, r, notFoundOr(err))
		return
	}
	switch part {
	case "result":
		writeJSON(w, http.StatusOK, rec.Response)
	case "logs":
		writeJSON(w, http.StatusOK, map[string][]string{"logs": rec.Logs})
	default:
		writeJSON(w, http.StatusOK, rec)
	}
}
