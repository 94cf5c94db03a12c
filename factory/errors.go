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

// AbandonedError ends a creation whose caller gave up while an engine call
// that may still make the container runs on in the background (it removes
// what it made). Settled is closed when that call has ended and its
// container, if any, is gone: a caller that must not give the container's
// memory back before the engine let go of it waits for Settled.
type AbandonedError struct {
	Err     error
	Settled <-chan struct{}
}

func (e *AbandonedError) Error() string {
	return e.Err.Error() + " (the engine call goes on and removes what it makes)"
}

func (e *AbandonedError) Unwrap() error { return e.Err }
