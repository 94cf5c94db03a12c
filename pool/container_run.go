package pool

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/stemcell-io/stemcell/actors"
	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/factory"
)

// Texts users see, as OpenWhisk words them (reference §4.1, §4.3, §5).
const (
	msgProvisionError   = "Failed to provision resources to run the action."
	msgAbnormalRun      = "The action did not produce a valid response and exited unexpectedly."
	msgShutdown         = "The invoker shut down before the activation finished."
	msgActorFailed      = "The invoker failed while running the activation."
	msgDeveloperLogWarn = "The action did not initialize or run as expected. Log data might be missing."
)

// jobOutcome is what running one job produced.
type jobOutcome struct {
	result     actors.Result
	health     bool  // factory.ErrHealth: reschedule the job, destroy the container
	initFailed bool  // /init did not succeed: every job buffered here gets this result
	logsFailed bool  // collecting logs failed: the container is not trusted any more
	err        error // an unexpected I/O error, for the log
}

// failed says whether the outcome destroys the container (reference §4.3
// step 9): developer and internal errors do, application errors do not.
func (o jobOutcome) failed() bool {
	return o.health || o.initFailed || o.logsFailed ||
		o.result.Status == factory.StatusDeveloperError || o.result.Status == factory.StatusInternalError
}

// jobRun is everything the goroutine running one job needs; it holds no
// reference to the actor. The container's worker fills in the per-job
// fields of a copy of its template, so a job costs no copy of the
// activation and no allocation here.
type jobRun struct {
	c           factory.Container
	containerID string
	path        string // actionPath of the container's action, fixed for life
	act         *actors.Activation
	startKind   actors.StartKind
	withInit    bool
	maxConc     int
	payload     config.PayloadLimits
	clock       actors.Clock
}

// do runs /init (when withInit), then /run, then collects the logs.
// initOK is called as soon as /init succeeded, before /run, so that jobs
// buffered behind this one can start while it runs; ran sees the outcome of
// /run before its logs are collected, and may answer it then.
func (r jobRun) do(ctx context.Context, initOK func(), ran func(*jobOutcome)) jobOutcome {
	act := r.act
	var init *factory.Outcome
	if r.withInit {
		out, err := r.c.Initialize(ctx, r.initRequest())
		if err != nil {
			return r.ioError("init", err)
		}
		if out.Status != factory.StatusSuccess {
			res := r.result(out.Start, out.End, out)
			res.InitTime = out.End.Sub(out.Start)
			o := jobOutcome{result: res, initFailed: true}
			r.collectLogs(ctx, &o)
			return o
		}
		init = &out
		initOK()
	}
	out, err := r.c.Run(ctx, r.runRequest())
	if err != nil {
		return r.ioError("run", err)
	}
	start := out.Start
	res := r.result(start, out.End, out)
	if init != nil {
		// The interval spans init and run, without the gap between them
		// (reference §4.3 step 6).
		res.InitTime = init.End.Sub(init.Start)
		res.Start = start.Add(-res.InitTime)
		res.WaitTime = waitTime(act.Arrived, init.Start)
	}
	o := jobOutcome{result: res}
	ran(&o)
	r.collectLogs(ctx, &o)
	return o
}

// ioError turns an error from Initialize or Run into an outcome: a health
// error reschedules; anything else (including a cancellation, whose job the
// actor has answered already and will not answer again) is an internal
// error with a zero interval.
func (r jobRun) ioError(step string, err error) jobOutcome {
	err = fmt.Errorf("%s of activation %s in container %s: %w", step, r.act.ID, r.containerID, err)
	if errors.Is(err, factory.ErrHealth) {
		return jobOutcome{health: true, err: err}
	}
	now := r.clock.Now()
	res := r.errorResult(factory.StatusInternalError, msgAbnormalRun, now)
	return jobOutcome{result: res, err: err}
}

func (r jobRun) result(start, end time.Time, out factory.Outcome) actors.Result {
	return actors.Result{
		ActivationID: r.act.ID,
		Status:       out.Status,
		Response:     out.Result,
		Start:        start,
		End:          end,
		WaitTime:     waitTime(r.act.Arrived, start),
		StartKind:    r.startKind,
		TimedOut:     out.TimedOut,
		ContainerID:  r.containerID,
	}
}

func (r jobRun) errorResult(status factory.Status, msg string, now time.Time) actors.Result {
	return errorResult(r.act, r.startKind, r.containerID, status, msg, now)
}

// errorResult is the answer to a job that did not run to an outcome of its
// own: a zero interval at now and {"error": msg}.
func errorResult(act *actors.Activation, kind actors.StartKind, containerID string, status factory.Status, msg string, now time.Time) actors.Result {
	return actors.Result{
		ActivationID: act.ID,
		Status:       status,
		Response:     errorResponse(msg),
		Start:        now,
		End:          now,
		WaitTime:     waitTime(act.Arrived, now),
		StartKind:    kind,
		ContainerID:  containerID,
	}
}

func errorResponse(msg string) json.RawMessage {
	b, _ := json.Marshal(map[string]string{"error": msg}) // a map of strings always marshals
	return b
}

func waitTime(arrived, start time.Time) time.Duration {
	if arrived.IsZero() || start.Before(arrived) {
		return 0
	}
	return start.Sub(arrived)
}

// collectLogs reads the activation's logs when its log limit is not zero.
// After a developer error the runtime may not have written its sentinels,
// so they are waited for only briefly (the factory bounds that wait) and a
// warning line says data may be missing. The lines added here are log
// lines like the others (factory.FormatLogLine).
func (r jobRun) collectLogs(ctx context.Context, o *jobOutcome) {
	limit := r.act.Action.Limits.Logs
	if limit == 0 {
		return
	}
	devErr := o.result.Status == factory.StatusDeveloperError
	lines, err := r.c.Logs(ctx, factory.LogRequest{Limit: limit, WaitForSentinel: !devErr})
	if devErr {
		lines = append(lines, factory.FormatLogLine(time.Now(), "stderr", msgDeveloperLogWarn))
	}
	if err != nil {
		lines = append(lines, factory.FormatLogLine(time.Now(), "stderr", factory.MsgLogsIncomplete))
		o.logsFailed = true
		o.err = fmt.Errorf("logs of activation %s in container %s: %w", r.act.ID, r.containerID, err)
	}
	o.result.Logs = lines
}

// contextKeys are the activation's context (reference §4.3 step 3): the
// /run body carries them next to "value", /init gets them as __OW_* env.
func (r jobRun) contextKeys(deadline time.Time) map[string]string {
	act := r.act
	keys := map[string]string{
		"namespace":      act.InvocationNamespace,
		"action_name":    r.actionPath(),
		"action_version": act.Action.Version,
		"activation_id":  act.ID,
		"transaction_id": act.TransactionID,
		"deadline":       strconv.FormatInt(deadline.UnixMilli(), 10),
	}
	if act.APIKey != "" {
		keys["api_key"] = act.APIKey
	}
	return keys
}

// actionPath is the fully qualified name, /namespace[/package]/name.
func actionPath(a *actors.Action) string { return "/" + a.Namespace + "/" + a.Name }

// actionPath is the job's action path, built once per container.
func (r jobRun) actionPath() string {
	if r.path != "" {
		return r.path
	}
	return actionPath(&r.act.Action)
}

// emptyParams stands in for absent parameters; shared and never written.
var emptyParams = json.RawMessage(`{}`)

func (r jobRun) initRequest() factory.InitRequest {
	act := r.act
	env := make(map[string]string, len(act.InitEnv)+7)
	for k, v := range act.InitEnv {
		env[k] = v
	}
	for k, v := range r.contextKeys(r.clock.Now().Add(act.Action.Limits.Timeout)) {
		env["__OW_"+strings.ToUpper(k)] = v
	}
	main := act.Action.Main
	if main == "" {
		main = "main"
	}
	return factory.InitRequest{
		Name:           act.Action.Name,
		Main:           main,
		Code:           act.Action.Code,
		Binary:         act.Action.Binary,
		Env:            env,
		Timeout:        act.Action.Limits.Timeout,
		MaxConcurrency: r.maxConc,
	}
}

func (r jobRun) runRequest() factory.RunRequest {
	act := r.act
	params := act.Params
	if len(params) == 0 {
		params = emptyParams
	}
	return factory.RunRequest{
		Params:        params,
		Namespace:     act.InvocationNamespace,
		ActionName:    r.actionPath(),
		ActionVersion: act.Action.Version,
		ActivationID:  act.ID,
		TransactionID: act.TransactionID,
		Deadline:      r.clock.Now().Add(act.Action.Limits.Timeout),
		APIKey:        act.APIKey,
		Timeout:       act.Action.Limits.Timeout,
		MaxPayload:    r.payload.Max,
		Truncation:    r.payload.Truncation,
	}
}
