package e2e

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// loadGen is a bounded load generator: a fixed number of workers, each
// invoking one activation at a time (blocking) through the fronts in
// turn, on actions a0..a<actions-1> picked at random. Each activation
// carries a unique "req", which the fake factory's run echoes back, so a
// run can be traced to the request that asked for it.
type loadGen struct {
	fronts  []string
	actions int
	next    atomic.Int64
}

// outcome is one request's answer, as the caller saw it.
type outcome struct {
	req        int64
	action     int
	status     int    // HTTP status; 0 when the request failed
	err        error  // transport error
	id         string // activation id
	respStatus string // response.status of the record
	startKind  string // cold, prewarmed or warm
	result     string // the record's result, compact JSON
}

// run drives the load for d with workers workers; seed makes the choice of
// actions repeatable.
func (g *loadGen) run(d time.Duration, workers int, seed uint64) []outcome {
	var mu sync.Mutex
	var all []outcome
	var wg sync.WaitGroup
	stop := time.Now().Add(d)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(w)))
			var mine []outcome
			for time.Now().Before(stop) {
				mine = append(mine, g.invoke(rng.IntN(g.actions)))
			}
			mu.Lock()
			all = append(all, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	sort.Slice(all, func(i, j int) bool { return all[i].req < all[j].req })
	return all
}

func (g *loadGen) invoke(action int) outcome {
	n := g.next.Add(1)
	o := outcome{req: n, action: action}
	front := g.fronts[int(n)%len(g.fronts)]
	r, err := call(front, "POST", fmt.Sprintf("/api/v1/namespaces/_/actions/a%d?blocking=true", action), map[string]int64{"req": n})
	if err != nil {
		o.err = err
		return o
	}
	o.status = r.status
	var rec struct {
		ActivationID string `json:"activationId"`
		Response     struct {
			Status string          `json:"status"`
			Result json.RawMessage `json:"result"`
		} `json:"response"`
		Annotations []struct {
			Key   string          `json:"key"`
			Value json.RawMessage `json:"value"`
		} `json:"annotations"`
	}
	if err := json.Unmarshal(r.body, &rec); err != nil {
		o.err = fmt.Errorf("answer %d is not a record: %s", r.status, r.body)
		return o
	}
	o.id, o.respStatus, o.result = rec.ActivationID, rec.Response.Status, string(rec.Response.Result)
	for _, a := range rec.Annotations {
		if a.Key == "startKind" {
			_ = json.Unmarshal(a.Value, &o.startKind)
		}
	}
	return o
}

// tally counts a phase's outcomes.
type tally struct {
	total, ok, lost, other, warm int
	others                       []string // a few of the unexpected answers
}

func count(outs []outcome) tally {
	var t tally
	for _, o := range outs {
		t.total++
		switch {
		case o.err == nil && o.status == 200 && o.respStatus == "success":
			t.ok++
			if o.startKind == "warm" {
				t.warm++
			}
		case o.err == nil && o.status == 500 && o.respStatus == "whisk internal error":
			t.lost++
		default:
			t.other++
			if len(t.others) < 5 {
				t.others = append(t.others, fmt.Sprintf("req %d: status %d %q err %v %s", o.req, o.status, o.respStatus, o.err, o.result))
			}
		}
	}
	return t
}

func (t tally) warmShare() float64 {
	if t.ok == 0 {
		return 0
	}
	return float64(t.warm) / float64(t.ok)
}

func (t tally) String() string {
	return fmt.Sprintf("%d answered: %d success (%.1f %% warm), %d lost (whisk internal error), %d other%s",
		t.total, t.ok, 100*t.warmShare(), t.lost, t.other, strings.Join(append([]string{""}, t.others...), "\n  "))
}
