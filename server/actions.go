package server

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/stemcell-io/stemcell/store"
)

// readBody reads at most limit bytes; a larger body is a 413 naming the
// limit (and the size, when the client declared it). A declared length is
// read into one buffer of that size: io.ReadAll would grow its buffer by
// doubling and leave the smaller copies behind, some 2x the body for a
// large PUT.
func readBody(r *http.Request, limit int64) ([]byte, error) {
	if r.ContentLength > limit {
		return nil, errorf(http.StatusRequestEntityTooLarge, msgTooLarge, r.ContentLength, limit)
	}
	if r.ContentLength > 0 {
		b := make([]byte, r.ContentLength)
		if n, err := io.ReadFull(r.Body, b); err != nil {
			return nil, errorf(http.StatusBadRequest, "%sthe body could not be read after %d of its %d bytes: %v", msgMalformed, n, r.ContentLength, err)
		}
		return b, nil
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "%sthe body could not be read: %v", msgMalformed, err)
	}
	if int64(len(b)) > limit {
		return nil, errorf(http.StatusRequestEntityTooLarge, "Request larger than allowed: more than %d bytes.", limit)
	}
	return b, nil
}

func (s *Server) putAction(w http.ResponseWriter, r *http.Request, ns string, p actionPath) {
	began := time.Now()
	if p.pkg != "" {
		writeError(w, r, errorf(http.StatusNotImplemented, msgPackagedPut, p.name, p.pkg))
		return
	}
	overwrite, err := parseBool(r.URL.Query(), "overwrite")
	if err != nil {
		writeError(w, r, err)
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		writeError(w, r, errorf(http.StatusUnsupportedMediaType, "%s", msgContentType))
		return
	}
	if r.ContentLength > s.scfg.MaxBodySize.Bytes() {
		writeError(w, r, errorf(http.StatusRequestEntityTooLarge, msgTooLarge, r.ContentLength, s.scfg.MaxBodySize.Bytes()))
		return
	}
	release, err := s.admitUpload(r, began)
	if err != nil {
		w.Header().Set("Retry-After", retryAfterUpload)
		writeError(w, r, err)
		return
	}
	defer release()
	doc, err := s.storeActionPut(r, ns, p, overwrite)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeAction(w, r, http.StatusOK, doc)
	// Out before release, which may collect the heap for a while.
	_ = http.NewResponseController(w).Flush()
}

// storeActionPut reads, checks and stores a PUT. The body is dropped once
// decoded, so that it can be collected while the document is stored.
func (s *Server) storeActionPut(r *http.Request, ns string, p actionPath, overwrite bool) (*store.Action, error) {
	body, err := readBody(r, s.scfg.MaxBodySize.Bytes())
	if err != nil {
		return nil, err
	}
	put, err := decodeActionPut(body)
	if err != nil {
		return nil, err
	}
	if err := s.checkBuiltInCode(put.Exec); err != nil {
		return nil, err
	}
	now := s.now().UnixMilli()
	doc, err := s.docs.PutAction(ns, p.String(), func(old *store.Action) (*store.Action, error) {
		return s.mergeAction(old, put, ns, p, overwrite, now)
	})
	s.actions.forget(ns, p.String())
	if err != nil {
		var ae *apiError
		if errors.As(err, &ae) {
			err = ae
		}
		return nil, err
	}
	return doc, nil
}

// writeAction answers with an action document, streaming its code instead
// of marshalling a copy of it (see store.WriteAction).
func writeAction(w http.ResponseWriter, r *http.Request, status int, doc *store.Action) {
	size, err := store.ActionSize(doc)
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
	w.WriteHeader(status)
	_, _ = store.WriteAction(w, doc)
}

func (s *Server) getAction(w http.ResponseWriter, r *http.Request, ns string, p actionPath) {
	q := r.URL.Query()
	code := true
	if q.Get("code") != "" {
		c, err := parseBool(q, "code")
		if err != nil {
			writeError(w, r, err)
			return
		}
		code = c
	}
	doc, err := s.docs.GetAction(ns, p.String())
	if err != nil {
		writeError(w, r, notFoundOr(err))
		return
	}
	if !code {
		doc.Exec.Code = nil
	}
	writeAction(w, r, http.StatusOK, doc)
}

func (s *Server) deleteAction(w http.ResponseWriter, r *http.Request, ns string, p actionPath) {
	doc, err := s.docs.DeleteAction(ns, p.String())
	s.actions.forget(ns, p.String())
	if err != nil {
		writeError(w, r, notFoundOr(err))
		return
	}
	writeAction(w, r, http.StatusOK, doc)
}

// actionSummary is an element of an action list.
type actionSummary struct {
	Namespace   string           `json:"namespace"`
	Name        string           `json:"name"`
	Version     string           `json:"version"`
	Publish     bool             `json:"publish"`
	Annotations []store.KeyValue `json:"annotations"`
	Limits      store.Limits     `json:"limits"`
	Exec        struct {
		Binary bool `json:"binary"`
	} `json:"exec"`
	Updated int64 `json:"updated"`
}

func (s *Server) listActions(w http.ResponseWriter, r *http.Request, ns, pkg string) {
	q := r.URL.Query()
	limit, skip, err := parsePaging(q, "actions")
	if err != nil {
		writeError(w, r, err)
		return
	}
	count, err := parseBool(q, "count")
	if err != nil {
		writeError(w, r, err)
		return
	}
	list, total, err := s.docs.ListActions(ns, pkg, skip, limit)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if count {
		writeJSON(w, http.StatusOK, map[string]int{"actions": total})
		return
	}
	out := make([]actionSummary, len(list))
	for i, a := range list {
		out[i] = actionSummary{Namespace: a.Namespace, Name: a.Name, Version: a.Version, Publish: a.Publish,
			Annotations: a.Annotations, Limits: a.Limits, Updated: a.Updated}
		out[i].Exec.Binary = a.Exec.Binary
	}
	writeJSON(w, http.StatusOK, out)
}

// notFoundOr maps store.ErrNotFound to OpenWhisk's 404.
func notFoundOr(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return errorf(http.StatusNotFound, "%s", msgNotFound)
	}
	return err
}
