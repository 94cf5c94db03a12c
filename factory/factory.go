// Package factory defines how the pool obtains and drives containers: the
// ContainerFactory and Container interfaces, the outcome of /init and /run,
// and a registry of factory providers chosen by configuration.
package factory

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/stemcell-io/stemcell/config"
)

// ContainerFactory creates containers. Implementations must be safe for
// concurrent use: the factory actor calls them from many goroutines.
type ContainerFactory interface {
	// CreateContainer starts a container and returns it once its runtime
	// answers. A container that fails half-way is removed before returning.
	CreateContainer(ctx context.Context, spec ContainerSpec) (Container, error)
	// Init prepares the factory at startup: removes this invoker's leftover
	// containers and makes sure the runtime images exist.
	Init(ctx context.Context) error
	// Cleanup removes every container of this invoker at shutdown.
	Cleanup(ctx context.Context) error
}

// OrderedFactory is a ContainerFactory that keeps creations in the order
// they were asked for through its concurrency limit (see StartQueue). The
// factory actor uses it when a factory offers it; a plain ContainerFactory
// gets its calls in whatever order their goroutines run.
type OrderedFactory interface {
	ContainerFactory
	// ReserveCreate takes spec's place in the start order at once, without
	// blocking, and returns the creation, which waits for its turn when it
	// runs. The caller runs it exactly once, on any goroutine, and soon:
	// until it runs, its place holds back the creations reserved after it.
	// A cancelled ctx gives the place up.
	ReserveCreate(spec ContainerSpec) func(ctx context.Context) (Container, error)
}

// ContainerSpec says what container to create.
type ContainerSpec struct {
	TransactionID string
	Name          string           // engine name, already carrying the invoker's prefix
	Image         config.ImageName // before registry resolution
	UserProvided  bool             // a blackbox (user) image rather than a runtime image
	Kind          string           // runtime kind, e.g. "js:goja" or "blackbox"
	Memory        config.ByteSize
	CPUShares     int
	CPULimit      float64 // 0: no limit
	// Action is nil for a prewarmed stem cell.
	Action *ActionRef
}

// ActionRef identifies the action a container is created for (labels, names).
type ActionRef struct {
	Namespace string // invocation namespace
	Name      string // fully qualified name without namespace, e.g. "pkg/hello"
	Version   string
}

// Container is one running container.
type Container interface {
	ID() string
	// Addr is host:port of the runtime's HTTP endpoint.
	Addr() string
	// Initialize sends /init. The error is non-nil only for ErrHealth (the
	// caller must reschedule) or a cancelled ctx; an init that failed for the
	// action's own reasons is an Outcome with a non-success status.
	Initialize(ctx context.Context, req InitRequest) (Outcome, error)
	// Run sends /run, with the same error contract as Initialize.
	Run(ctx context.Context, req RunRequest) (Outcome, error)
	Suspend(ctx context.Context) error
	Resume(ctx context.Context) error
	// Logs returns the log lines written since the previous call.
	Logs(ctx context.Context, req LogRequest) ([]string, error)
	Destroy(ctx context.Context) error
}

// Status is an activation's status, numbered as OpenWhisk numbers them.
type Status int

// The four activation statuses.
const (
	StatusSuccess          Status = 0
	StatusApplicationError Status = 1
	StatusDeveloperError   Status = 2
	StatusInternalError    Status = 3
)

// MsgLogsIncomplete is the log line, in OpenWhisk's words, that marks
// logs that could not be collected whole.
const MsgLogsIncomplete = "There was an issue while collecting your logs. Data might be missing."

// FormatLogLine formats one activation log line as OpenWhisk does: the
// time (RFC 3339, UTC, nanoseconds) padded to 30 characters, the stream, a
// colon and the text. Lines the invoker adds (truncation, missing data)
// take this form too: tools parse the time of every line, the last one
// included.
func FormatLogLine(t time.Time, stream, text string) string {
	return fmt.Sprintf("%-30s %s: %s", t.UTC().Format(time.RFC3339Nano), stream, text)
}

// Outcome is the result of one /init or /run.
type Outcome struct {
	Start, End time.Time
	Status     Status
	// Result is the JSON result object; for errors {"error": "..."}.
	Result   json.RawMessage
	TimedOut bool
}

// InitRequest is the body of /init.
type InitRequest struct {
	Name           string
	Main           string
	Code           string // source text, or base64 when Binary
	Binary         bool
	Env            map[string]string // init args and __OW_* keys
	Timeout        time.Duration
	MaxConcurrency int
}

// RunRequest is the body of /run.
type RunRequest struct {
	Params        json.RawMessage // object or array
	Namespace     string
	ActionName    string
	ActionVersion string
	ActivationID  string
	TransactionID string
	Deadline      time.Time
	APIKey        string // optional
	Timeout       time.Duration
	// MaxPayload and Truncation bound the response body.
	MaxPayload config.ByteSize
	Truncation config.ByteSize
	// Reschedule is set on the first run after a container became ready or
	// was resumed: a connection failure then means the container was not
	// healthy to begin with, so Run reports ErrHealth and the job moves to
	// another container instead of failing.
	Reschedule bool
}

// LogRequest says how to collect an activation's logs.
type LogRequest struct {
	Limit config.ByteSize
	// WaitForSentinel waits for both sentinels (an idle timeout bounds the
	// wait; missing data is marked). Without it, after a developer error,
	// when the runtime may never write them, a factory still waits a short
	// bound for them: runtimes write the reason and the sentinels just
	// before they answer the error.
	WaitForSentinel bool
}
