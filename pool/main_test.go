package pool

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/stemcell-io/stemcell/internal/enginetest"
)

// protoactor's dead-letter throttle parks one goroutine for the throttle
// interval after a dead letter (actor/throttler.go); it ends by itself.
// enginetest.Wrap removes the engine tests' image and closes the engine
// client before goleak looks.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(enginetest.Wrap(m), goleak.IgnoreTopFunction("github.com/asynkron/protoactor-go/actor.NewDeadLetter.NewThrottle.func4.1"))
}
