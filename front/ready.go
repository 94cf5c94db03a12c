package front

import (
	"net/http"
	"time"
)

// readyJSON is GET /readyz: the status an invoker gives, and the view the
// front routes on.
type readyJSON struct {
	Status string   `json:"status"` // ready, starting (no list yet) or stopping
	View   viewJSON `json:"view"`
	// Detail says in words what a load balancer or an operator should
	// know: etcd unreachable, no invoker.
	Detail string `json:"detail,omitempty"`
	// Forwarding is the number of invokes being forwarded.
	Forwarding int `json:"forwarding"`
}

type viewJSON struct {
	Listed           bool       `json:"listed"`
	Revision         int64      `json:"revision"`
	Invokers         int        `json:"invokers"`
	UnreachableSince *time.Time `json:"unreachableSince,omitempty"`
	Error            string     `json:"error,omitempty"`
}

// serveReady is 200 while the front can route: it has listed the invokers
// once, even if etcd is unreachable now (it routes on its last view and
// says so in detail); 503 before the first list and once stopping.
func (f *Front) serveReady(w http.ResponseWriter, r *http.Request) {
	st := f.opts.View.Status()
	n := len(f.opts.View.Current().Invokers)
	body := readyJSON{
		Status:     "ready",
		View:       viewJSON{Listed: st.Listed, Revision: st.Revision, Invokers: n},
		Forwarding: f.forwards.count(),
	}
	if st.Err != nil {
		body.View.Error = st.Err.Error()
	}
	if !st.UnreachableSince.IsZero() {
		t := st.UnreachableSince.UTC()
		body.View.UnreachableSince = &t
		body.Detail = "etcd unreachable since " + t.Format(time.RFC3339) + " (" +
			f.opts.Now().Sub(st.UnreachableSince).Round(time.Second).String() + "): routing on the last view"
	} else if st.Listed && n == 0 {
		body.Detail = "no invoker in the view: invokes get 503"
	}
	status := http.StatusOK
	switch {
	case !f.accepting.Load():
		status, body.Status = http.StatusServiceUnavailable, "stopping"
	case !st.Listed:
		status, body.Status = http.StatusServiceUnavailable, "starting"
	}
	writeJSON(w, status, body)
}
