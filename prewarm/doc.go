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
package prewarm
