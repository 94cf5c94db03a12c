package actionclient

import (
	"errors"
	"time"

	"github.com/stemcell-io/stemcell/factory"
)

// ErrNoResponse means the runtime answered without a usable body: no
// Content-Length (a chunked stream) or 204. OpenWhisk treats both as a lost
// connection, because a runtime must always send Content-Length.
var ErrNoResponse = errors.New("runtime sent no Content-Length or no content (chunked or 204)")

// ConnectionError is a terminal failure to talk to the runtime: the
// connection was refused past the init retries, reset, closed before a full
// answer, or the answer had no Content-Length. The container's owner decides
// what it means (checking the engine's OOM flag first) and builds the outcome
// with ConnectionOutcome.
type ConnectionError struct {
	Op   string // "init" or "run"
	Addr string
	Err  error
}

func (e *ConnectionError) Error() string {
	return "/" + e.Op + " to runtime at " + e.Addr + ": connection failed: " + e.Err.Error()
}

func (e *ConnectionError) Unwrap() error { return e.Err }

// ConnectionOutcome is the developer error OpenWhisk reports for a connection
// that failed during op ("init" or "run"); oom replaces it with the memory
// exhausted message when the engine says the container was OOM-killed.
func ConnectionOutcome(op string, start, end time.Time, oom bool) factory.Outcome {
	msg := msgAbnormalRun
	switch {
	case oom:
		msg = msgMemoryExhausted
	case op == OpInit:
		msg = msgAbnormalInit
	}
	return factory.Outcome{
		Start:  start,
		End:    end,
		Status: factory.StatusDeveloperError,
		Result: errorResult(msg),
	}
}

// The two operations, as ConnectionError.Op names them.
const (
	OpInit = "init"
	OpRun  = "run"
)

// TimeoutOutcome is the developer error for an op ("init" or "run") that
// used its whole time limit. The fake factory uses it too, so both speak the
// same words.
func TimeoutOutcome(op string, timeout time.Duration, start, end time.Time) factory.Outcome {
	return factory.Outcome{
		Start:    start,
		End:      end,
		Status:   factory.StatusDeveloperError,
		Result:   errorResult(timedOutMessage(timeout, op == OpInit)),
		TimedOut: true,
	}
}

// ErrorOutcome is an outcome of status s with the result {"error": msg}.
func ErrorOutcome(s factory.Status, msg string, start, end time.Time) factory.Outcome {
	return factory.Outcome{Start: start, End: end, Status: s, Result: errorResult(msg)}
}
