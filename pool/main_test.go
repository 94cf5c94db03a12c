package pool

import (
	"testing"

	"go.uber.org/goleak"
)

// protoactor's dead-letter throttle parks one goroutine for the throttle
// interval after a dead letter (actor/throttler.go); it ends by itself.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("github.com/asynkron/protoactor-go/actor.NewDeadLetter.NewThrottle.func4.1"))
}
