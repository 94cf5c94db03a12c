// Package route decides where a cluster front sends an activation: which
// invokers, in which order. It is pure: functions of plain data (the
// front's view of the invokers and what the front sent them), with no
// clock, no I/O and no goroutines, so every decision can be replayed in a
// test.
//
// # Ranking
//
// Each action ranks the invokers by weighted rendezvous hashing (highest
// random weight; Thaler and Ravishankar, "Using name-based mappings to
// increase hit rates", IEEE/ACM Transactions on Networking, 1998), with the
// logarithmic method for weights (Schindelhauer and Schomaker, "Weighted
// distributed hash tables", SPAA 2005): invoker i scores
// w_i / -ln(u), u being Hash of the action and the invoker's ID mapped
// into (0, 1), and w_i its user memory. So:
//
//   - every front ranks alike without talking: Hash is a fixed function
//     (XXH64 over a documented canonical form of Action), not seeded per
//     process;
//   - an action's first choice is invoker i with probability w_i / Σw;
//   - an invoker leaving moves only the actions that ranked it first, and
//     one joining takes only the actions it now ranks first, about its
//     weight's share; the other invokers keep their relative order.
//
// An action goes back to the same few invokers, which keep it warm.
//
// # Warm first
//
// Each invoker publishes the actions it has an idle container of
// (Invoker.Warm, by WarmKey). Among invokers with room on the same side of
// the bound, Place takes one where the action is warm first, then one
// with the memory free, and only then one that must evict an idle
// container of another action: evicting makes that other action start
// cold next time, so with the first choice full of other actions' idle
// containers, the action starts (once) on the next invoker with free
// memory and stays warm there. The cluster's warm containers then add up
// instead of churning on the first-ranked invokers.
//
// In full, for another implementation to match: h = Hash(action, ID);
// u = (h >> 12 + 0.5) / 2^52; score = UserMemory in bytes / -ln(u);
// invokers in decreasing score, equal scores by ID in byte order.
// TestHashGolden and TestRankGolden hold values to check against.
//
// # Capacity and bounded load
//
// An invoker's room is its free memory plus its idle warm containers
// (which it evicts for a cold start), less what waits in its buffer and
// what this front sent it since its last snapshot: the Ledger, which a new
// snapshot resets. Room can only be an estimate: other fronts send too,
// and the invoker's own admission has the last word.
//
// Ranking alone lets two heavy actions with the same first choice pile on
// one invoker while others idle (OpenWhisk's "home invoker" problem). Place
// therefore passes over an invoker whose busy share is above (1 + ε) times
// the cluster's mean (Mirrokni, Thorup and Zadimoghaddam, "Consistent
// hashing with bounded loads", SODA 2018), and over one without room, and
// takes the next in the action's ranking. The bound never goes below a
// floor (half the invoker's memory by default): in a quiet cluster, (1 + ε)
// times a small mean is one or two activations, and the paper's bound
// alone would send an action away from the invoker that has it warm
// because that invoker runs one other activation (TestWarmHitsSimulated
// and README.md give the figures). So at low load the traffic stays on an
// action's first invokers; as load grows it spills down the ranking,
// always in the same order, so what spills also finds warm containers.
//
// # Using it
//
// A front keeps []Invoker from the registry and one Ledger. For each
// activation it calls Place, sends to the first candidate, records
// Ledger.Sent, and on a rejection before acceptance calls Ledger.Answered
// with the ticket and tries the next candidate. When the activation is
// answered it calls Ledger.Answered; when a new snapshot of an invoker
// arrives, Ledger.Observed.
package route
