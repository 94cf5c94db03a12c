package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/stemcell-io/stemcell/bench/report"
	"github.com/stemcell-io/stemcell/bench/workload"
)

// daemonFlags configure the daemon target.
type daemonFlags struct {
	URL       string `json:"url"`
	Auth      string `json:"-"`
	KeysFile  string `json:"keys_file,omitempty"`
	Namespace string `json:"namespace"`
}

// daemonTarget drives a running invoker daemon over its OpenWhisk API: it
// creates one action per workload function, invokes them blocking, and
// deletes them at the end. Memory comes from GET /v1/pool and evictions
// from the counter on /metrics (the difference over the run).
type daemonTarget struct {
	base      *url.URL
	auth      string // uuid:key
	ns        string
	names     []string
	client    *http.Client
	evictedAt int // the eviction counter before the run
}

// daemonKey returns the credential: --auth, or the first key of the keys
// file.
func daemonKey(f daemonFlags) (string, error) {
	if f.Auth != "" {
		return f.Auth, nil
	}
	data, err := os.ReadFile(f.KeysFile)
	if err != nil {
		return "", fmt.Errorf("daemon target: no --auth given and keys file: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		return strings.Fields(line)[0], nil
	}
	return "", fmt.Errorf("daemon target: keys file %s holds no key: want lines of \"uuid:key namespace\"", f.KeysFile)
}

func newDaemonTarget(ctx context.Context, f daemonFlags, w *workload.Workload, timeout time.Duration, runID string) (*daemonTarget, error) {
	base, err := parseBaseURL(f.URL)
	if err != nil {
		return nil, err
	}
	key, err := daemonKey(f)
	if err != nil {
		return nil, err
	}
	t := &daemonTarget{base: base, auth: key, ns: f.Namespace, client: newDaemonClient()}
	for _, fn := range w.Functions {
		t.names = append(t.names, "bench-"+runID+"-"+fn.Name)
	}
	if err := t.putActions(ctx, w, timeout); err != nil {
		return nil, errors.Join(err, t.deleteActions(context.Background()))
	}
	if t.evictedAt, err = t.evictions(ctx); err != nil {
		return nil, errors.Join(err, t.deleteActions(context.Background()))
	}
	return t, nil
}

func parseBaseURL(text string) (*url.URL, error) {
	base, err := url.Parse(strings.TrimRight(text, "/"))
	if err != nil || base.Scheme == "" || base.Host == "" {
		return nil, fmt.Errorf("--daemon-url %q is invalid: want http://host:port", text)
	}
	return base, nil
}

func newDaemonClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	// Open loop: as many connections as activations in flight.
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost = 0, 1024
	return &http.Client{Transport: tr}
}

// listActions returns the names of the bench's actions on the daemon.
func (t *daemonTarget) listActions(ctx context.Context) ([]string, error) {
	resp, body, err := t.do(ctx, http.MethodGet, t.actionURL("", "limit=200"), nil)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("listing actions: status %d: %s", resp.StatusCode, bytes.TrimSpace(body))
	}
	var list []struct {
		Name string `json:"name"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		return nil, fmt.Errorf("listing actions: %w", err)
	}
	var names []string
	for _, a := range list {
		if strings.HasPrefix(a.Name, "bench-") {
			names = append(names, a.Name)
		}
	}
	return names, nil
}

func (t *daemonTarget) actionURL(name string, query string) string {
	u := *t.base
	u.Path = "/api/v1/namespaces/" + url.PathEscape(t.ns) + "/actions"
	if name != "" {
		u.Path += "/" + url.PathEscape(name)
	}
	u.RawQuery = query
	return u.String()
}

func (t *daemonTarget) do(ctx context.Context, method, target string, body []byte) (*http.Response, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, target, bytes.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	user, pass, _ := strings.Cut(t.auth, ":")
	req.SetBasicAuth(user, pass)
	req.Header.Set("Content-Type", "application/json")
	resp, err := t.client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

// putActions creates the actions, a few at a time.
func (t *daemonTarget) putActions(ctx context.Context, w *workload.Workload, timeout time.Duration) error {
	const parallel = 8
	sem := make(chan struct{}, parallel)
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for i, fn := range w.Functions {
		body, _ := json.Marshal(map[string]any{
			"exec":   map[string]string{"kind": "nodejs:default", "code": jsAction},
			"limits": map[string]int64{"memory": int64(fn.MemoryMB), "timeout": timeout.Milliseconds()},
		})
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			resp, b, err := t.do(ctx, http.MethodPut, t.actionURL(t.names[i], "overwrite=true"), body)
			if err == nil && resp.StatusCode != http.StatusOK {
				err = fmt.Errorf("status %d: %s", resp.StatusCode, bytes.TrimSpace(b))
			}
			if err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("daemon target: creating action %s: %w", t.names[i], err))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (t *daemonTarget) deleteActions(ctx context.Context) error {
	var errs []error
	for _, name := range t.names {
		resp, b, err := t.do(ctx, http.MethodDelete, t.actionURL(name, ""), nil)
		if err == nil && resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNotFound {
			err = fmt.Errorf("status %d: %s", resp.StatusCode, bytes.TrimSpace(b))
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("daemon target: deleting action %s: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

// record is the part of an activation record the bench reads.
type record struct {
	Response struct {
		Status string `json:"status"`
	} `json:"response"`
	Annotations []struct {
		Key   string          `json:"key"`
		Value json.RawMessage `json:"value"`
	} `json:"annotations"`
}

// daemonStatuses maps the record's status names onto the report's.
var daemonStatuses = map[string]string{
	"success":                "success",
	"application error":      "application error",
	"action developer error": "developer error",
	"whisk internal error":   "internal error",
}

func (t *daemonTarget) invoke(ctx context.Context, _ int, a workload.Arrival) outcome {
	resp, body, err := t.do(ctx, http.MethodPost, t.actionURL(t.names[a.Function], "blocking=true"), execParams(a.Exec))
	switch {
	case err != nil && ctx.Err() != nil:
		return outcome{Status: statusTimeout}
	case err != nil:
		return outcome{Status: "http error"}
	case resp.StatusCode == http.StatusAccepted:
		return outcome{Status: statusTimeout} // the blocking wait ran out
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable:
		return outcome{Status: statusRejected}
	}
	var rec record
	if err := json.Unmarshal(body, &rec); err != nil || rec.Response.Status == "" {
		return outcome{Status: "http " + strconv.Itoa(resp.StatusCode)}
	}
	return recordOutcome(rec)
}

// recordOutcome reads status, wait and start kind from a record. The
// daemon's records carry waitTime, initTime when the container was
// initialised for this activation, and the start kind (annotation
// "startKind"; "start" is read too). A record without one (an OpenWhisk
// server's) says only this much: no initTime means a warm start, an
// initTime cold or prewarmed, which it does not tell apart: "unknown".
func recordOutcome(rec record) outcome {
	o := outcome{Status: daemonStatuses[rec.Response.Status], StartKind: "warm"}
	if o.Status == "" {
		o.Status = rec.Response.Status
	}
	var kind string
	for _, a := range rec.Annotations {
		switch a.Key {
		case "waitTime":
			var ms int64
			if json.Unmarshal(a.Value, &ms) == nil {
				o.Wait = time.Duration(ms) * time.Millisecond
			}
		case "initTime":
			o.StartKind = "unknown"
		case "startKind", "start":
			_ = json.Unmarshal(a.Value, &kind)
		}
	}
	if kind != "" {
		o.StartKind = kind
	}
	return o
}

// poolJSON is the part of GET /v1/pool the bench reads.
type poolJSON struct {
	TotalMB   float64   `json:"totalMB"`
	FreeMB    float64   `json:"freeMB"`
	Busy      usageJSON `json:"busy"`
	Idle      usageJSON `json:"idle"`
	Prewarmed usageJSON `json:"prewarmed"`
}

type usageJSON struct {
	MB float64 `json:"memoryMB"`
}

func (t *daemonTarget) memory(ctx context.Context) (report.MemoryPoint, bool) {
	u := *t.base
	u.Path = "/v1/pool"
	resp, body, err := t.do(ctx, http.MethodGet, u.String(), nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		return report.MemoryPoint{}, false
	}
	var p poolJSON
	if json.Unmarshal(body, &p) != nil {
		return report.MemoryPoint{}, false
	}
	return report.MemoryPoint{InUseMB: p.TotalMB - p.FreeMB, BusyMB: p.Busy.MB, IdleMB: p.Idle.MB, PrewarmedMB: p.Prewarmed.MB}, true
}

// evictions reads stemcell_pool_evictions_total from /metrics, less its
// value when the run began.
func (t *daemonTarget) evictions(ctx context.Context) (int, error) {
	u := *t.base
	u.Path = "/metrics"
	resp, body, err := t.do(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return 0, fmt.Errorf("daemon target: reading %s: %w", u.String(), err)
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("daemon target: reading %s: status %d", u.String(), resp.StatusCode)
	}
	n, err := sumCounter(body, "stemcell_pool_evictions_total")
	return n - t.evictedAt, err
}

// sumCounter adds up the samples of a counter in the Prometheus text format.
func sumCounter(text []byte, name string) (int, error) {
	var sum float64
	found := false
	sc := bufio.NewScanner(bytes.NewReader(text))
	for sc.Scan() {
		line := sc.Text()
		rest, ok := strings.CutPrefix(line, name)
		if !ok || (rest != "" && rest[0] != '{' && rest[0] != ' ') {
			continue
		}
		value := rest
		if i := strings.LastIndexByte(rest, '}'); i >= 0 {
			value = rest[i+1:]
		}
		fields := strings.Fields(value)
		if len(fields) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			return 0, fmt.Errorf("metric line %q: value %q is not a number: %w", line, fields[0], err)
		}
		sum += v
		found = true
	}
	if !found {
		return 0, fmt.Errorf("metric %s is not on the daemon's /metrics", name)
	}
	return int(sum), nil
}

func (t *daemonTarget) close(ctx context.Context) error {
	err := t.deleteActions(ctx)
	t.client.CloseIdleConnections()
	return err
}
