package config

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrInvalid is matched (errors.Is) by every KeyError.
var ErrInvalid = errors.New("invalid configuration")

// KeyError is one problem with one configuration key. Its message names the
// full key, the value and the rule:
// "container-pool.concurrent-peek-factor: 1.5 is invalid: must be > 0 and <= 1".
type KeyError struct {
	Key   string // full kebab-case key, e.g. "container-pool.user-memory"
	Value string // the offending value as printed; empty for an unknown key
	Rule  string // what the value must satisfy, or what is wrong with the key
	Err   error  // the parse error behind the problem, if any
}

func (e *KeyError) Error() string {
	if e.Value == "" {
		return e.Key + ": " + e.Rule
	}
	return e.Key + ": " + e.Value + " is invalid: " + e.Rule
}

// Is makes errors.Is(err, ErrInvalid) true for every KeyError.
func (e *KeyError) Is(target error) bool { return target == ErrInvalid }

// Unwrap returns the parse error behind the problem, if any.
func (e *KeyError) Unwrap() error { return e.Err }

// Errors is every problem found at once; Error lists one per line.
type Errors []error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap lets errors.Is and errors.As look at each problem.
func (es Errors) Unwrap() []error { return es }

// Err returns nil when there is no problem, so callers can return it as is.
func (es Errors) Err() error {
	if len(es) == 0 {
		return nil
	}
	return es
}

// add appends err, flattening Errors and errors.Join trees so that every
// problem stays on a line of its own.
func (es *Errors) add(err error) {
	if err == nil {
		return
	}
	if many, ok := err.(interface{ Unwrap() []error }); ok {
		if _, isKey := err.(*KeyError); !isKey {
			for _, e := range many.Unwrap() {
				es.add(e)
			}
			return
		}
	}
	*es = append(*es, err)
}

// invalid records that key's value breaks rule.
func (es *Errors) invalid(key string, value any, rule string) {
	*es = append(*es, &KeyError{Key: key, Value: show(value), Rule: rule})
}

// show prints a value the way an operator writes it in the file.
func show(v any) string {
	switch x := v.(type) {
	case string:
		return fmt.Sprintf("%q", x)
	case time.Duration:
		return FormatDuration(x)
	case fmt.Stringer:
		return x.String()
	default:
		return fmt.Sprint(x)
	}
}
