package front

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/stemcell-io/stemcell/server"
	"github.com/stemcell-io/stemcell/store"
)

// GetActivation implements server.Forwarder: the record is on the front
// (an activation whose invoker was lost) or on the invoker that ran it.
// The front's store is asked first, then every invoker of the view at
// once; the first 200 wins.
func (f *Front) GetActivation(w http.ResponseWriter, r *http.Request, get server.ActivationGet) {
	rec, err := f.opts.Store.GetActivation(get.Namespace, get.ID)
	switch {
	case err == nil:
		server.WriteActivation(w, rec, get.Part)
		return
	case !errors.Is(err, store.ErrNotFound):
		f.log.Error().Err(err).Str("activation_id", get.ID).Msg("reading the front's store")
	}
	replies := f.askAll(r, r.URL.RawQuery, func(rep reply) bool { return rep.status == http.StatusOK })
	var silent []string
	for _, rep := range replies {
		switch {
		case rep.status == http.StatusOK:
			relay(w, attempt{status: rep.status, header: rep.header, body: rep.body})
			return
		case rep.status != http.StatusNotFound:
			silent = append(silent, rep.String())
		}
	}
	if len(silent) == 0 {
		server.WriteError(w, r, http.StatusNotFound, server.MsgNotFound)
		return
	}
	// Not found where it was asked, but it may be on an invoker that did
	// not answer: "does not exist" would be a guess.
	server.WriteError(w, r, http.StatusServiceUnavailable, fmt.Sprintf(
		"%s Activation %s is on none of the invokers that answered, and %d did not answer (%s).",
		server.MsgUnavailable, get.ID, len(silent), strings.Join(silent, "; ")))
}

// reply is one invoker's answer to a read.
type reply struct {
	invoker string
	status  int // 0 when there was no answer
	header  http.Header
	body    []byte
	err     error
}

func (rep reply) String() string {
	if rep.err != nil {
		return fmt.Sprintf("%s: %v", rep.invoker, rep.err)
	}
	return fmt.Sprintf("%s: HTTP %d %s", rep.invoker, rep.status, invokerMessage(rep.body, ""))
}

// askAll sends the request's GET, with query, to every invoker of the view
// at once, each within LookupTimeout, and returns their replies. Once a
// reply satisfies enough, the others are cancelled (and come back as
// errors).
func (f *Front) askAll(r *http.Request, query string, enough func(reply) bool) []reply {
	snap := f.opts.View.Current()
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	ch := make(chan reply, len(snap.Invokers))
	for i := range snap.Invokers {
		go func(id, addr string) { ch <- f.ask(ctx, r, id, addr, query) }(snap.Invokers[i].ID, snap.Addresses[i])
	}
	out := make([]reply, 0, len(snap.Invokers))
	for range snap.Invokers {
		rep := <-ch
		out = append(out, rep)
		if enough(rep) {
			cancel()
		}
	}
	return out
}

// ask sends one read to one invoker, as the caller sent it to the front:
// same path and credentials, marked as a hop.
func (f *Front) ask(ctx context.Context, r *http.Request, id, addr, query string) reply {
	rep := reply{invoker: id}
	ctx, cancel := context.WithTimeout(ctx, f.opts.LookupTimeout)
	defer cancel()
	url := addr + r.URL.EscapedPath()
	if query != "" {
		url += "?" + query
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		rep.err = err
		return rep
	}
	if v := r.Header.Get("Authorization"); v != "" {
		req.Header.Set("Authorization", v)
	}
	req.Header.Set(server.HopHeader, f.opts.ID)
	resp, err := f.client.Do(req)
	if err != nil {
		rep.err = err
		return rep
	}
	defer resp.Body.Close()
	rep.body, err = io.ReadAll(resp.Body)
	if err != nil {
		rep.err = fmt.Errorf("reading its answer (HTTP %d): %w", resp.StatusCode, err)
		return rep
	}
	rep.status, rep.header = resp.StatusCode, resp.Header
	return rep
}
