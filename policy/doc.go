// Package policy holds the pool's keep-alive policies (when an idle
// container is paused or removed, and when a container is loaded ahead of
// an action's next call) and eviction orders (which idle containers go
// first when memory is short). It is pure: functions over plain data
// (Container, Stats) with the time passed in, no clock, no I/O, no
// goroutines; the pool owns the state and applies the decisions inside its
// memory budget. It imports only package config.
//
// The policies:
//
//   - openwhisk: pause PauseGrace after the last job, remove IdleContainer
//     after the pause; least recently used first. The pool's behaviour
//     before this package, and the default.
//   - greedy-dual (FaaSCache, Fuerst and Sharma, ASPLOS'21): no timer;
//     evict the lowest clock + frequency × cold-start cost / memory, the
//     clock raised to each victim's priority.
//   - hybrid-histogram (Serverless in the Wild, Shahrad et al., ATC'20):
//     per-action pre-warm and keep-alive windows from a histogram of idle
//     times, with LRU eviction; hybrid-greedy-dual pairs its windows with
//     Greedy-Dual's order.
//
// README.md gives the rules, the choices made where the papers leave room,
// and how the pool is meant to call a Policy.
package policy
