// Package prewarm is the prewarm scheduler: the actor that keeps a stock of
// prewarmed "stem cell" containers for the pool, so that most first calls of
// an action skip the cold start.
//
// The decisions (how many stem cells each kind needs, which ones have
// expired, how many creations a round may start, when the next check runs,
// when a stem cell is unhealthy) are pure functions over plain data in
// desired.go, expiry.go, throttle.go and health.go. The actor in
// scheduler.go feeds them its state and the clock, applies the answer and
// does the messaging; blocking I/O (TCP health checks) runs off its
// goroutine.
//
// Where it departs from OpenWhisk, on purpose:
//   - the expiry-check jitter is drawn anew for every check, not once per
//     pool, so the checks of many invokers keep drifting apart;
//   - the checks run even without a reactive stem cell, since they also
//     reset the retry limit;
//   - once a creation has failed, creations in flight count against the
//     retry budget, so a broken image costs at most prewarm-max-retry-limit
//     attempts per check however wide the throttle (the first burst, before
//     any failure is known, is the exception);
//   - a creation that completes may start the next round at once if the
//     creation delay has passed, rather than waiting for a fixed tick;
//   - cold starts are counted one by one (reference §11.9);
//   - stem cells are health-checked by TCP connect, and one removed as
//     unhealthy is replaced even though the pool reports it without Replace.
package prewarm
