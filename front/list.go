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
// up.
func (f *Front) ListActivations(w http.ResponseWriter, r *http.Request, l server.ActivationList) {
	q := l.Query
	need := q.Skip + q.Limit
	own, err := f.ownList(l, need)
	if err != nil {
		server.WriteError(w, r, http.StatusInternalServerError, server.MsgInternal)
		f.log.Error().Err(err).Msg("listing the front's store")
		return
	}
	total := len(own)
	items := own
	var missing []string
	if l.Count {
		reps := f.askAll(r, r.URL.RawQuery, func(reply) bool { return false })
		for _, rep := range reps {
			var c struct {
				Activations *int `json:"activations"`
			}
			if rep.status != http.StatusOK || json.Unmarshal(rep.body, &c) != nil || c.Activations == nil {
				missing = append(missing, rep.String())
				continue
			}
			total += *c.Activations
		}
	} else {
		items, missing = f.gather(r, own, need)
	}
	if len(missing) > 0 {
		f.log.Warn().Strs("invokers", missing).Msg("activation list without the records of invokers that did not answer")
		var names []string
		for _, m := range missing {
			if name, _, _ := strings.Cut(m, ":"); !slices.Contains(names, name) {
				names = append(names, name)
			}
		}
		w.Header().Set(MissingHeader, strings.Join(names, ","))
	}
	if l.Count {
		writeJSON(w, http.StatusOK, map[string]int{"activations": total})
		return
	}
	page := items[min(q.Skip, len(items)):]
	page = page[:min(q.Limit, len(page))]
	out := make([]json.RawMessage, len(page))
	for i := range page {
		out[i] = page[i].raw
	}
	writeJSON(w, http.StatusOK, out)
}

// ownList is the front's own matching records, the newest need of them
// (their count alone with l.Count), in the list's form.
func (f *Front) ownList(l server.ActivationList, need int) ([]listed, error) {
	q := l.Query
	if l.Count {
		n, err := f.opts.Store.CountActivations(q)
		return make([]listed, n), err
	}
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
func (f *Front) gather(r *http.Request, own []listed, need int) ([]listed, []string) {
	seen := make(map[string]bool, len(own))
	items := slices.Clone(own)
	for _, it := range own {
		seen[it.id] = true
	}
	var missing []string
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
				missing = append(missing, fmt.Sprintf("%s: %v", rep.invoker, err))
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
