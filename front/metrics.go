package front

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the front's own; the embedded server registers the API's
// (requests by status and duration) in the same registry.
type metrics struct {
	forwarded prometheus.Counter
	retried   prometheus.Counter
	lost      prometheus.Counter
	rejected  *prometheus.CounterVec
}

// Reasons of stemcell_front_rejected_total.
const (
	rejectedAllRefused = "all_refused" // every candidate refused before accepting
	rejectedNoInvoker  = "no_invoker"  // route found no invoker that can take it
	rejectedHop        = "hop"         // the request came from a front already
	rejectedStopping   = "stopping"    // the front is shutting down
)

func newMetrics(reg prometheus.Registerer, view View) (*metrics, error) {
	m := &metrics{
		forwarded: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "stemcell_front_forwarded_total",
			Help: "Invokes an invoker accepted or answered (one per invoke, whatever the outcome).",
		}),
		retried: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "stemcell_front_retried_total",
			Help: "Refusals before acceptance (connection refused, 429, 503) after which the front tried the next invoker.",
		}),
		lost: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "stemcell_front_lost_total",
			Help: "Invokes whose invoker was lost after it may have accepted them: answered with a whisk internal error, never retried.",
		}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stemcell_front_rejected_total",
			Help: "Invokes the front answered 429, 503 or 508 without an invoker accepting them, by reason.",
		}, []string{"reason"}),
	}
	for _, r := range []string{rejectedAllRefused, rejectedNoInvoker, rejectedHop, rejectedStopping} {
		m.rejected.WithLabelValues(r)
	}
	unreachable := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "stemcell_front_etcd_unreachable",
		Help: "1 while the view's source (etcd) does not answer: the front routes on its last view meanwhile.",
	}, func() float64 {
		if view.Status().UnreachableSince.IsZero() {
			return 0
		}
		return 1
	})
	invokers := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "stemcell_front_invokers",
		Help: "Invokers in the front's current view (reachable by address).",
	}, func() float64 { return float64(len(view.Current().Invokers)) })
	for _, c := range []prometheus.Collector{m.forwarded, m.retried, m.lost, m.rejected, unreachable, invokers} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("front: metrics: %w", err)
		}
	}
	return m, nil
}
