package route_test

import (
	"fmt"

	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/route"
)

// A front's loop around Place: place, send, count what was sent, try the
// next candidate on a rejection, and forget what a new snapshot shows.
func ExamplePlace() {
	// The front's view, from the invokers' snapshots in the registry.
	view := []route.Invoker{
		{ID: "10.0.0.1:8080", Incarnation: 1, Revision: 7, UserMemory: 4 * config.GB, Free: 4 * config.GB},
		{ID: "10.0.0.2:8080", Incarnation: 1, Revision: 9, UserMemory: 4 * config.GB, Free: 3 * config.GB, Busy: config.GB},
		{ID: "10.0.0.3:8080", Incarnation: 3, Revision: 4, UserMemory: 8 * config.GB, Free: 6 * config.GB, Idle: 2 * config.GB},
		{ID: "10.0.0.4:8080", Incarnation: 1, Revision: 2, UserMemory: 4 * config.GB, Draining: true},
	}
	sent := route.Ledger{}
	a := route.Action{Namespace: "guest", Name: "guest/pkg/hello", Version: "0.0.3"}

	p, err := route.Place(a, 256*config.MB, view, sent, route.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for i, c := range p.Candidates {
		fmt.Printf("%d. %s room %v over %v\n", i+1, c.ID, c.Room, c.Over)
	}
	fmt.Println("home:", p.Home)

	// Send to the first; it answers 503 before accepting: take it back and
	// try the next one.
	first := view[p.Candidates[0].Index]
	t := sent.Sent(first, 256*config.MB)
	sent.Answered(t)
	next := view[p.Candidates[1].Index]
	t = sent.Sent(next, 256*config.MB)
	fmt.Println("in flight to", next.ID+":", sent.InFlight(next))

	// Its next snapshot shows the activation: the ledger drops it. (A
	// front would update its view; here next is a copy.)
	next.Revision++
	next.Busy += 256 * config.MB
	next.Free -= 256 * config.MB
	sent.Observed(next)
	fmt.Println("after its snapshot:", sent.InFlight(next))
	// The answer comes later: nothing is taken back twice.
	sent.Answered(t)
	fmt.Println("entries left:", len(sent))
	// Output:
	// 1. 10.0.0.1:8080 room true over false
	// 2. 10.0.0.2:8080 room true over false
	// 3. 10.0.0.3:8080 room true over false
	// home: 10.0.0.1:8080
	// in flight to 10.0.0.2:8080: 256 MB
	// after its snapshot: 0 B
	// entries left: 0
}
