package front

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/stemcell-io/stemcell/server"
)

// MissingHeader names, on an activation list, the invokers whose records
// are missing from it because they did not answer in time.
const MissingHeader = "X-Stemcell-Missing-Invokers"

// pageMax is the largest page an invoker serves.
const pageMax = 200

// listed is one element of a list, kept as the invoker sent it, with what
// the merge orders by.
type listed struct {
	raw   json.RawMessage
	start int64
	id    string
}

// ListActivations implements server.Forwarder: every invoker's newest
// skip + limit matching records and the front's own, merged newest first
// (as one store would list them), then paged. With count, the counts add
// up. Invokers that do not answer are left out and named in MissingHeader.
func (f *Front) ListActivations(w http.ResponseWriter, r *http.Request, l server.ActivationList) {
	if l.Count {
		f.countActivations(w, r, l)
		return
	}
	q := l.Query
	own, err := f.ownList(l, q.Skip+q.Limit)
	if err != nil {
		f.log.Error().Err(err).Msg("listing the front's store")
		server.WriteError(w, r, http.StatusInternalServerError, server.MsgInternal)
		return
	}
	items, missing := f.gather(r, own, q.Skip+q.Limit)
	f.reportMissing(w, missing)
	page := items[min(q.Skip, len(items)):]
	page = page[:min(q.Limit, len(page))]
	out := make([]json.RawMessage, len(page))
	for i := range page {
		out[i] = page[i].raw
	}
	writeJSON(w, http.StatusOK, out)
}

// countActivations adds up the front's count and every invoker's.
func (f *Front) countActivations(w http.ResponseWriter, r *http.Request, l server.ActivationList) {
	total, err := f.opts.Store.CountActivations(l.Query)
	if err != nil {
		f.log.Error().Err(err).Msg("counting the front's store")
		server.WriteError(w, r, http.StatusInternalServerError, server.MsgInternal)
		return
	}
	var missing []reply
	for _, rep := range f.askAll(r, r.URL.RawQuery, func(reply) bool { return false }) {
		var c struct {
			Activations *int `json:"activations"`
		}
		if rep.err == nil && (rep.status != http.StatusOK || json.Unmarshal(rep.body, &c) != nil || c.Activations == nil) {
			rep.err = fmt.Errorf("no count in its answer: HTTP %d %s", rep.status, invokerMessage(rep.body, ""))
		}
		if rep.err != nil {
			missing = append(missing, rep)
			continue
		}
		total += *c.Activations
	}
	f.reportMissing(w, missing)
	writeJSON(w, http.StatusOK, map[string]int{"activations": total})
}

// reportMissing names the invokers whose records a list lacks.
func (f *Front) reportMissing(w http.ResponseWriter, missing []reply) {
	if len(missing) == 0 {
		return
	}
	var names, why []string
	for _, rep := range missing {
		if !slices.Contains(names, rep.invoker) {
			names = append(names, rep.invoker)
			why = append(why, rep.String())
		}
	}
	f.log.Warn().Strs("invokers", why).Msg("activation list without the records of invokers that did not answer")
	w.Header().Set(MissingHeader, strings.Join(names, ","))
}

// ownList is the front's own newest need matching records, in the list's
// form.
func (f *Front) ownList(l server.ActivationList, need int) ([]listed, error) {
	q := l.Query
	q.Skip, q.Limit = 0, need
	recs, err := f.opts.Store.ListActivations(q)
	if err != nil {
		return nil, err
	}
	out := make([]listed, len(recs))
	for i := range recs {
		var v any = recs[i].Summarize()
		if l.Docs {
			v = &recs[i]
		}
		raw, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		out[i] = listed{raw: raw, start: recs[i].Start, id: recs[i].ActivationID}
	}
	return out, nil
}

// gather adds to own every invoker's newest need records, in pages of at
// most pageMax, and returns them merged newest first, each id once (the
// front's record first: it is what the caller was answered), and the
// invokers that failed.
func (f *Front) gather(r *http.Request, own []listed, need int) ([]listed, []reply) {
	seen := make(map[string]bool, len(own))
	items := slices.Clone(own)
	for _, it := range own {
		seen[it.id] = true
	}
	var missing []reply
	base := r.URL.Query()
	for skip := 0; skip < need; skip += pageMax {
		n := min(pageMax, need-skip)
		q := cloneValues(base)
		q.Set("skip", strconv.Itoa(skip))
		q.Set("limit", strconv.Itoa(n))
		reps := f.askAll(r, q.Encode(), func(reply) bool { return false })
		full := false
		for _, rep := range reps {
			page, err := decodePage(rep)
			if err != nil {
				rep.err = err
				missing = append(missing, rep)
				continue
			}
			for _, it := range page {
				if !seen[it.id] {
					seen[it.id] = true
					items = append(items, it)
				}
			}
			full = full || len(page) == n
		}
		if !full {
			break // no invoker has more
		}
	}
	// Newest start first, then the greater id, as the store lists.
	slices.SortStableFunc(items, func(a, b listed) int {
		if c := cmp.Compare(b.start, a.start); c != 0 {
			return c
		}
		return strings.Compare(b.id, a.id)
	})
	return items, missing
}

func decodePage(rep reply) ([]listed, error) {
	if rep.err != nil {
		return nil, rep.err
	}
	if rep.status != http.StatusOK {
		return nil, fmt.Errorf("HTTP %d %s", rep.status, invokerMessage(rep.body, ""))
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(rep.body, &raws); err != nil {
		return nil, fmt.Errorf("its list is not a JSON array: %w", err)
	}
	out := make([]listed, len(raws))
	for i, raw := range raws {
		var key struct {
			Start        int64  `json:"start"`
			ActivationID string `json:"activationId"`
		}
		if err := json.Unmarshal(raw, &key); err != nil {
			return nil, fmt.Errorf("element %d of its list: %w", i, err)
		}
		out[i] = listed{raw: raw, start: key.Start, id: key.ActivationID}
	}
	return out, nil
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}

var _ server.Forwarder = (*Front)(nil)
