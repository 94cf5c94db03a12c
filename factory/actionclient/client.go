package actionclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"syscall"
	"time"

	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/factory"
)

// DefaultRetryInterval is the pause between /init attempts while the runtime
// is not listening yet (OpenWhisk's 50 ms).
const DefaultRetryInterval = 50 * time.Millisecond

// defaultPayloadLimit stands in for a zero limit: OpenWhisk's system-wide
// payload max and truncation size, which also bound /init answers.
const defaultPayloadLimit = config.ByteSize(1 << 20)

// Options shape one container's client.
type Options struct {
	// MaxConcurrency caps the requests in flight to the container, and so
	// the connections in use: the action's intra-container concurrency.
	// Below 1 means 1.
	MaxConcurrency int
	// Pooled keeps connections alive for reuse (container-pool.akka-client
	// true); otherwise every request opens and closes its own connection.
	Pooled bool
	// RetryInterval is the pause between refused /init attempts; zero means
	// DefaultRetryInterval.
	RetryInterval time.Duration
	// InitMaxPayload and InitTruncation bound /init answers; zero means 1 MiB.
	InitMaxPayload config.ByteSize
	InitTruncation config.ByteSize
}

// Client talks to one runtime. It is safe for concurrent use; up to
// MaxConcurrency calls run at once, the rest wait for a turn within their
// own timeout.
type Client struct {
	addr    string
	initURL string
	runURL  string
	opts    Options
	// send makes one HTTP exchange: a keep-alive http.Client when pooled,
	// a oneShot otherwise. closeIdle drops kept-alive connections.
	send      func(*http.Request) (*http.Response, error)
	closeIdle func()
	oneShot   *oneShot // the sender when not pooled, for tests
	// slots caps the requests in flight at the action's concurrency. The
	// pooled transport's own MaxConnsPerHost would do it too, but costs
	// about 0.15 ms at p50 per warm /run here (e2e BenchmarkWarmInvoke,
	// pooled forwarder), even with an idle connection at hand.
	slots chan struct{}

	// onRetry, when set by tests, sees every refused /init attempt.
	onRetry func(error)
}

// New returns a client for the runtime at addr (host:port).
func New(addr string, opts Options) *Client {
	if opts.MaxConcurrency < 1 {
		opts.MaxConcurrency = 1
	}
	if opts.RetryInterval <= 0 {
		opts.RetryInterval = DefaultRetryInterval
	}
	if opts.InitMaxPayload <= 0 {
		opts.InitMaxPayload = defaultPayloadLimit
	}
	if opts.InitTruncation <= 0 {
		opts.InitTruncation = defaultPayloadLimit
	}
	c := &Client{
		addr:    addr,
		initURL: "http://" + addr + "/init",
		runURL:  "http://" + addr + "/run",
		opts:    opts,
		slots:   make(chan struct{}, opts.MaxConcurrency),
	}
	if !opts.Pooled {
		c.oneShot = newOneShot(addr)
		c.send, c.closeIdle = c.oneShot.do, c.oneShot.close
		return c
	}
	t := &http.Transport{
		// Containers sit on a local bridge: an HTTP(S)_PROXY from the
		// environment must not capture them.
		Proxy:       nil,
		DialContext: (&net.Dialer{KeepAlive: 30 * time.Second}).DialContext,
		// Transparent gzip would hide Content-Length, which the protocol
		// requires.
		DisableCompression: true,
		// 0 would fall back to net/http's default of 2 idle connections.
		MaxIdleConnsPerHost: opts.MaxConcurrency,
		MaxIdleConns:        opts.MaxConcurrency,
		IdleConnTimeout:     90 * time.Second,
	}
	c.send, c.closeIdle = (&http.Client{Transport: t}).Do, t.CloseIdleConnections
	return c
}

// Addr is the runtime's host:port.
func (c *Client) Addr() string { return c.addr }

// Close drops idle connections; requests in flight are not interrupted and
// the client stays usable. Suspend closes it before pausing so that no
// kept-alive connection outlives a frozen runtime.
func (c *Client) Close() { c.closeIdle() }

// Init posts /init and waits up to req.Timeout, retrying refused
// connections while the runtime boots. The error is non-nil only when ctx
// ends first, on a 503 (wrapping factory.ErrHealth), or for a terminal
// connection failure (*ConnectionError, to be turned into an outcome with
// ConnectionOutcome once the OOM flag is known).
func (c *Client) Init(ctx context.Context, req factory.InitRequest) (factory.Outcome, error) {
	body, err := encodeInit(req)
	if err != nil {
		return factory.Outcome{}, err
	}
	res, start, end, err := c.call(ctx, c.initURL, body, req.Timeout, true, c.opts.InitMaxPayload, c.opts.InitTruncation)
	out := factory.Outcome{Start: start, End: end}
	if err != nil && ctx.Err() != nil {
		return out, fmt.Errorf("/init to runtime at %s: %w", c.addr, ctx.Err())
	}
	if err == nil && res.status == http.StatusServiceUnavailable {
		return out, fmt.Errorf("/init to runtime at %s answered 503: %w", c.addr, factory.ErrHealth)
	}
	if err == nil && res.status == http.StatusOK && !res.truncated {
		out.Status = factory.StatusSuccess
		return out, nil
	}
	if timedOut(start, end, req.Timeout) {
		return TimeoutOutcome(OpInit, req.Timeout, start, end), nil
	}
	if err != nil {
		return out, &ConnectionError{Op: OpInit, Addr: c.addr, Err: err}
	}
	out.Status, out.Result = classifyInit(res)
	return out, nil
}

// Run posts /run and waits up to req.Timeout, without retries. An answer
// that took the whole timeout is a time-limit developer error whatever it
// says. Errors as for Init, except that with req.Reschedule a connection
// failure is factory.ErrHealth instead of a *ConnectionError.
func (c *Client) Run(ctx context.Context, req factory.RunRequest) (factory.Outcome, error) {
	body, err := encodeRun(req)
	if err != nil {
		return factory.Outcome{}, err
	}
	max, trunc := req.MaxPayload, req.Truncation
	if max <= 0 {
		max = defaultPayloadLimit
	}
	if trunc <= 0 {
		trunc = defaultPayloadLimit
	}
	res, start, end, err := c.call(ctx, c.runURL, body, req.Timeout, false, max, trunc)
	out := factory.Outcome{Start: start, End: end}
	if err != nil && ctx.Err() != nil {
		return out, fmt.Errorf("/run to runtime at %s: %w", c.addr, ctx.Err())
	}
	if err == nil && res.status == http.StatusServiceUnavailable {
		return out, fmt.Errorf("/run to runtime at %s answered 503: %w", c.addr, factory.ErrHealth)
	}
	if timedOut(start, end, req.Timeout) {
		return TimeoutOutcome(OpRun, req.Timeout, start, end), nil
	}
	if err != nil {
		ce := &ConnectionError{Op: OpRun, Addr: c.addr, Err: err}
		if req.Reschedule {
			// Only ErrHealth is wrapped: the job moves on without an
			// outcome, so callers must not turn it into a connection
			// (or OOM) developer error.
			return out, fmt.Errorf("%w: %v", factory.ErrHealth, ce)
		}
		return out, ce
	}
	out.Status, out.Result = classifyRun(res)
	return out, nil
}

func timedOut(start, end time.Time, timeout time.Duration) bool {
	return timeout > 0 && end.Sub(start) >= timeout
}

// call posts body to url within timeout and reads the answer under the size
// limits. start is taken before the first attempt and end after the body.
func (c *Client) call(ctx context.Context, url string, body []byte, timeout time.Duration, retry bool, max, trunc config.ByteSize) (res response, start, end time.Time, err error) {
	start = time.Now()
	callCtx := ctx
	if timeout > 0 {
		var cancel context.CancelFunc
		callCtx, cancel = context.WithDeadline(ctx, start.Add(timeout))
		defer cancel()
	}
	for {
		res, err = c.post(callCtx, url, body, int64(max), int64(trunc))
		if err == nil || !retry || !refused(err) {
			break
		}
		if c.onRetry != nil {
			c.onRetry(err)
		}
		if !sleepCtx(callCtx, c.opts.RetryInterval) {
			break
		}
	}
	return res, start, time.Now(), err
}

// post makes one attempt.
func (c *Client) post(ctx context.Context, url string, body []byte, max, trunc int64) (response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return response{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	select {
	case c.slots <- struct{}{}:
	case <-ctx.Done():
		return response{}, ctx.Err()
	}
	defer func() { <-c.slots }() // the body is read and closed below
	resp, err := c.send(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusServiceUnavailable {
		return response{status: resp.StatusCode}, nil
	}
	if resp.StatusCode == http.StatusNoContent || resp.ContentLength < 0 {
		return response{}, ErrNoResponse
	}
	r := response{status: resp.StatusCode, memoryExhausted: resp.Header.Get(MemoryExhaustedHeader) == "true"}
	n := resp.ContentLength
	if n > max {
		r.truncated, r.length, r.max = true, n, max
		n = min(trunc, n)
	}
	r.body = make([]byte, n)
	if _, err := io.ReadFull(resp.Body, r.body); err != nil {
		return response{}, fmt.Errorf("read %d-byte body: %w", n, err)
	}
	if r.truncated && c.opts.Pooled {
		// Draining lets the keep-alive connection serve the next run; an
		// unpooled connection is closed instead, which is cheaper than
		// reading what will be thrown away.
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			return response{}, fmt.Errorf("drain oversized body: %w", err)
		}
	}
	return r, nil
}

// refused reports the failures that mean "not listening yet": the runtime
// is still booting, so /init tries again.
func refused(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EHOSTUNREACH)
}

// sleepCtx waits d and reports whether ctx is still live.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

type initBody struct {
	Value initValue `json:"value"`
}

type initValue struct {
	Name   string            `json:"name"`
	Main   string            `json:"main"`
	Binary bool              `json:"binary"`
	Code   string            `json:"code,omitempty"`
	Env    map[string]string `json:"env,omitempty"`
}

func encodeInit(req factory.InitRequest) ([]byte, error) {
	main := req.Main
	if main == "" {
		main = "main"
	}
	b, err := json.Marshal(initBody{Value: initValue{
		Name: req.Name, Main: main, Binary: req.Binary, Code: req.Code, Env: req.Env,
	}})
	if err != nil {
		return nil, fmt.Errorf("encode /init body of action %q: %w", req.Name, err)
	}
	return b, nil
}

type runBody struct {
	Value         json.RawMessage `json:"value"`
	Namespace     string          `json:"namespace"`
	ActionName    string          `json:"action_name"`
	ActionVersion string          `json:"action_version"`
	ActivationID  string          `json:"activation_id"`
	TransactionID string          `json:"transaction_id"`
	Deadline      string          `json:"deadline"`
	APIKey        string          `json:"api_key,omitempty"`
}

var emptyObject = json.RawMessage("{}")

func encodeRun(req factory.RunRequest) ([]byte, error) {
	params := req.Params
	if len(bytes.TrimSpace(params)) == 0 {
		params = emptyObject
	}
	b, err := json.Marshal(runBody{
		Value:         params,
		Namespace:     req.Namespace,
		ActionName:    req.ActionName,
		ActionVersion: req.ActionVersion,
		ActivationID:  req.ActivationID,
		TransactionID: req.TransactionID,
		Deadline:      strconv.FormatInt(req.Deadline.UnixMilli(), 10),
		APIKey:        req.APIKey,
	})
	if err != nil {
		return nil, fmt.Errorf("encode /run body of activation %s: params must be a JSON object or array: %w", req.ActivationID, err)
	}
	return b, nil
}
