package actors

import (
	"encoding/json"
	"time"

	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/factory"
)

// Action is what an activation runs. A container serves one invocation
// namespace and one action identity (Name, Version, Digest) for its life.
type Action struct {
	Namespace    string // the action's own namespace path, e.g. "guest" or "guest/pkg"
	Name         string
	Version      string
	Digest       string // digest of the code and exec; part of the identity
	Kind         string // runtime kind, e.g. "js:goja" or "blackbox"
	Image        config.ImageName
	UserProvided bool // blackbox image supplied by the user
	Main         string
	Code         string
	Binary       bool
	Limits       ActionLimits
}

// ActionLimits are an action's resource limits.
type ActionLimits struct {
	Memory         config.ByteSize
	Timeout        time.Duration
	MaxConcurrency int // >= 1
	Logs           config.ByteSize
}

// Identity is the key of the warm-container index.
type Identity struct {
	InvocationNamespace string
	Name                string
	Version             string
	Digest              string
}

// Activation is one invocation of an action.
type Activation struct {
	ID                  string
	TransactionID       string
	InvocationNamespace string
	Action              Action
	Params              json.RawMessage
	InitEnv             map[string]string // init args, passed to /init
	APIKey              string
	// Arrived is when the activation was accepted; the pool sets it when zero.
	Arrived time.Time
	// LogsAfterResult asks for the result as soon as the action answered,
	// before its logs are collected (OpenWhisk's ResultMessage ahead of the
	// CompletionMessage): the Result then comes with Logs nil and LateLogs
	// set whenever logs were still to collect. The container takes its next
	// activation only after those logs, so they never mix.
	LogsAfterResult bool
}

// Identity returns the (namespace, action) key a warm container must match.
func (a *Activation) Identity() Identity {
	return Identity{a.InvocationNamespace, a.Action.Namespace + "/" + a.Action.Name, a.Action.Version, a.Action.Digest}
}

// StartKind says how the container of an activation came to be.
type StartKind string

// The start kinds, as OpenWhisk labels them.
const (
	StartCold      StartKind = "cold"
	StartPrewarmed StartKind = "prewarmed"
	StartWarm      StartKind = "warm"
	StartRecreated StartKind = "recreated"
)

// Result is the one answer every accepted activation gets.
type Result struct {
	ActivationID string
	Status       factory.Status
	Response     json.RawMessage // the result object; {"error": "..."} for errors
	Start, End   time.Time
	InitTime     time.Duration // zero when no init happened
	WaitTime     time.Duration // arrival to start of init or run
	StartKind    StartKind
	TimedOut     bool
	Logs         []string
	// LateLogs, set only for an activation with LogsAfterResult whose
	// result came before its logs, receives the logs exactly once (with
	// OpenWhisk's warning line when collecting them failed).
	LateLogs    <-chan []string
	ContainerID string
}
