package server

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/stemcell-io/stemcell/store"
)

// ActivationList is a list request of namespace Query.Namespace, checked:
// the page and filters in Query, and whether full records (Docs) or only
// their number (Count) are wanted.
type ActivationList struct {
	Query       store.Query
	Docs, Count bool
}

// parseActivationList reads a list request's query parameters as
// OpenWhisk does.
func parseActivationList(r *http.Request, ns string) (ActivationList, error) {
	q := r.URL.Query()
	limit, skip, err := parsePaging(q, "activations")
	if err != nil {
		return ActivationList{}, err
	}
	docs, err := parseBool(q, "docs")
	if err != nil {
		return ActivationList{}, err
	}
	count, err := parseBool(q, "count")
	if err != nil {
		return ActivationList{}, err
	}
	if docs && count {
		return ActivationList{}, errorf(http.StatusBadRequest, "The parameter 'docs' is not permitted with 'count'.")
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
			return ActivationList{}, queryError(b.name, "Parameter is not a valid value for epoch seconds: "+v)
		}
		*b.dst = n
	}
	if name := q.Get("name"); name != "" {
		segs := strings.Split(name, "/")
		if _, err := parseActionPath(segs); err != nil || len(segs) > 2 {
			return ActivationList{}, queryError("name", "Parameter may be a 'simple' name or 'package-name/simple' name: "+name)
		}
		query.Name = name
	}
	return ActivationList{Query: query, Docs: docs, Count: count}, nil
}

func (s *Server) listActivations(w http.ResponseWriter, r *http.Request, ns string) {
	l, err := parseActivationList(r, ns)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if s.fwd != nil {
		s.fwd.ListActivations(w, r, l)
		return
	}
	query, docs, count := l.Query, l.Docs, l.Count
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
	if s.fwd != nil {
		s.fwd.GetActivation(w, r, ActivationGet{Namespace: ns, ID: id, Part: part})
		return
	}
	rec, err := s.store.GetActivation(ns, id)
	if err != nil {
		writeError(w, r, notFoundOr(err))
		return
	}
	WriteActivation(w, rec, part)
}

// WriteActivation answers a read of an activation with the record, or
// with the part asked for (ActivationGet.Part): "result" its result,
// "logs" {"logs": [...]}. A front answers so for a record it holds.
func WriteActivation(w http.ResponseWriter, rec *store.Activation, part string) {
	switch part {
	case "result":
		writeJSON(w, http.StatusOK, rec.Response)
	case "logs":
		writeJSON(w, http.StatusOK, map[string][]string{"logs": rec.Logs})
	default:
		writeJSON(w, http.StatusOK, rec)
	}
}
