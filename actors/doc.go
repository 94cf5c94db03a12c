// Package actors holds the message protocol between Stemcell's actors (pool,
// container, prewarm scheduler, factory) and the helpers every actor shares:
// the logging bridge, supervision, timers and an injectable clock.
//
// Messages are plain structs sent as pointers. A message that expects an
// answer says so in its comment, and the answer goes to the sender.
package actors
