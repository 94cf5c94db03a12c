package factory

import "errors"

// ErrHealth means the container cannot serve (503 from the runtime, or a
// connection failure right after resume): the job must be rescheduled on
// another container, not failed.
var ErrHealth = errors.New("container health error")

// StartupError is a failure to create a container. UserError marks failures
// that are the user's (a blackbox image that cannot be pulled), which become
// developer errors; the rest are internal errors.
type StartupError struct {
	Msg       string
	UserError bool
	Err       error
}

func (e *StartupError) Error() string {
	if e.Err != nil {
		return e.Msg + ": " + e.Err.Error()
	}
	return e.Msg
}

func (e *StartupError) Unwrap() error { return e.Err }
