package docker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types"
	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/jsonmessage"
)

// sdkEngine implements engine over github.com/docker/docker/client.
type sdkEngine struct {
	cli *client.Client
}

// newSDKEngine connects to host (empty: DOCKER_HOST or the default socket).
// The API version is always negotiated: the v28 client defaults to API 1.51,
// which older engines (20.10 speaks 1.41) refuse.
func newSDKEngine(host string) (*sdkEngine, error) {
	opts := []client.Opt{client.FromEnv, client.WithAPIVersionNegotiation()}
	if host != "" {
		opts = append(opts, client.WithHost(host))
	}
	cli, err := client.NewClientWithOpts(opts...)
	if err != nil {
		return nil, fmt.Errorf("docker.host %q: cannot make an engine client: %w", host, err)
	}
	return &sdkEngine{cli: cli}, nil
}

func (e *sdkEngine) Close() error { return e.cli.Close() }

func (e *sdkEngine) Ping(ctx context.Context) error {
	_, err := e.cli.Ping(ctx)
	return err
}

func (e *sdkEngine) Create(ctx context.Context, s createSpec) (string, error) {
	cfg := &container.Config{Image: s.Image, Env: s.Env, Labels: s.Labels, User: s.User}
	pids := s.PidsLimit
	hc := &container.HostConfig{
		NetworkMode:    container.NetworkMode(s.Network),
		DNS:            s.DNS,
		DNSSearch:      s.DNSSearch,
		DNSOptions:     s.DNSOptions,
		CapAdd:         s.CapAdd,
		CapDrop:        s.CapDrop,
		SecurityOpt:    s.SecurityOpt,
		ExtraHosts:     s.ExtraHosts,
		Sysctls:        s.Sysctls,
		ShmSize:        s.ShmSize,
		Tmpfs:          s.Tmpfs,
		ReadonlyRootfs: s.ReadOnly,
		LogConfig:      container.LogConfig{Type: s.LogDriver, Config: s.LogOpts},
		Resources: container.Resources{
			Memory:     s.Memory,
			MemorySwap: s.Memory,
			CPUShares:  s.CPUShares,
			NanoCPUs:   s.NanoCPUs,
		},
	}
	if pids > 0 {
		hc.Resources.PidsLimit = &pids
	}
	for _, u := range s.Ulimits {
		hc.Resources.Ulimits = append(hc.Resources.Ulimits, &container.Ulimit{Name: u.Name, Soft: u.Soft, Hard: u.Hard})
	}
	var nc *network.NetworkingConfig
	if s.Network != "" {
		// API < 1.44 accepts one network at create time; that is all we use.
		nc = &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{s.Network: {}}}
	}
	resp, err := e.cli.ContainerCreate(ctx, cfg, hc, nc, nil, s.Name)
	if err != nil {
		return "", err
	}
	return resp.ID, nil
}

func (e *sdkEngine) Start(ctx context.Context, id string) error {
	return e.cli.ContainerStart(ctx, id, container.StartOptions{})
}

func (e *sdkEngine) Inspect(ctx context.Context, id string) (containerInfo, error) {
	r, err := e.cli.ContainerInspect(ctx, id)
	if err != nil {
		return containerInfo{}, err
	}
	info := containerInfo{ID: r.ID, IPs: map[string]string{}}
	if r.ContainerJSONBase != nil {
		info.Name = strings.TrimPrefix(r.Name, "/")
		if st := r.State; st != nil {
			info.Running, info.Paused, info.OOMKilled = st.Running, st.Paused, st.OOMKilled
			info.ExitCode, info.Error = st.ExitCode, st.Error
		}
		if hc := r.HostConfig; hc != nil {
			info.Memory, info.MemorySwap = hc.Memory, hc.MemorySwap
			info.CPUShares, info.NanoCPUs = hc.CPUShares, hc.NanoCPUs
			info.Network = string(hc.NetworkMode)
			info.DNS, info.DNSSearch, info.DNSOptions = hc.DNS, hc.DNSSearch, hc.DNSOptions
			info.CapAdd, info.CapDrop, info.SecurityOpt = hc.CapAdd, hc.CapDrop, hc.SecurityOpt
			info.ReadOnly, info.Tmpfs = hc.ReadonlyRootfs, hc.Tmpfs
			if hc.PidsLimit != nil {
				info.PidsLimit = *hc.PidsLimit
			}
			for _, u := range hc.Ulimits {
				info.Ulimits = append(info.Ulimits, ulimit{Name: u.Name, Soft: u.Soft, Hard: u.Hard})
			}
			info.LogDriver = hc.LogConfig.Type
		}
	}
	if r.Config != nil {
		info.Labels, info.Env, info.User = r.Config.Labels, r.Config.Env, r.Config.User
	}
	if r.NetworkSettings != nil {
		for name, ep := range r.NetworkSettings.Networks {
			if ep != nil {
				// By ID too: the strict profile's network is joined by
				// ID (network.go).
				info.IPs[name] = ep.IPAddress
				if ep.NetworkID != "" {
					info.IPs[ep.NetworkID] = ep.IPAddress
				}
			}
		}
	}
	return info, nil
}

// The engine tracks "paused" from two sides: the pause/unpause call sets it,
// and containerd's paused/resumed events set it again when they arrive, in
// order but late under load (seen here at load average 5 and up). Until the
// late events have drained, the engine can say "already paused" for a
// running container or "is not paused" for a frozen one. Retrying the same
// call for a short while lets the flag settle; if the engine keeps saying
// so, it is true, and the container is already where the call would put it.

const (
	staleFlagWait  = time.Second
	staleFlagRetry = 5 * time.Millisecond
)

func (e *sdkEngine) Pause(ctx context.Context, id string) error {
	return retryStaleFlag(ctx, "already paused", func() error { return e.cli.ContainerPause(ctx, id) })
}

func (e *sdkEngine) Unpause(ctx context.Context, id string) error {
	return retryStaleFlag(ctx, "is not paused", func() error { return e.cli.ContainerUnpause(ctx, id) })
}

// retryStaleFlag runs call until it succeeds, fails otherwise, or has said
// refusal for staleFlagWait (then the state it refuses over is real).
func retryStaleFlag(ctx context.Context, refusal string, call func() error) error {
	deadline := time.Now().Add(staleFlagWait)
	delay := staleFlagRetry
	for {
		err := call()
		if !engineSays(err, refusal) {
			return err
		}
		if time.Now().After(deadline) {
			return nil
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		delay = min(delay*2, 100*time.Millisecond)
	}
}

// engineSays matches the engine's message: 20.10 answers "already paused"
// with 409 but "is not paused" with 500, so the status cannot tell.
func engineSays(err error, text string) bool {
	return err != nil && strings.Contains(err.Error(), text)
}

func (e *sdkEngine) Remove(ctx context.Context, id string) error {
	err := e.cli.ContainerRemove(ctx, id, container.RemoveOptions{Force: true, RemoveVolumes: true})
	if err != nil && cerrdefs.IsNotFound(err) {
		return nil
	}
	return err
}

func (e *sdkEngine) List(ctx context.Context, labels map[string]string, namePrefix string) ([]containerSummary, error) {
	args := filters.NewArgs()
	for k, v := range labels {
		args.Add("label", k+"="+v)
	}
	if namePrefix != "" {
		// The engine matches name as an unanchored regex against "/name";
		// anchoring narrows the reply, the prefix check below decides.
		args.Add("name", "^/?"+regexp.QuoteMeta(namePrefix))
	}
	l, err := e.cli.ContainerList(ctx, container.ListOptions{All: true, Filters: args})
	if err != nil {
		return nil, err
	}
	out := make([]containerSummary, 0, len(l))
	for _, c := range l {
		name := ""
		for _, n := range c.Names {
			if strings.HasPrefix(strings.TrimPrefix(n, "/"), namePrefix) {
				name = strings.TrimPrefix(n, "/")
				break
			}
		}
		if namePrefix != "" && name == "" {
			continue
		}
		out = append(out, containerSummary{ID: c.ID, Name: name, State: string(c.State), Labels: c.Labels, Created: time.Unix(c.Created, 0)})
	}
	return out, nil
}

func (e *sdkEngine) Attach(ctx context.Context, id string) (io.ReadCloser, error) {
	hr, err := e.cli.ContainerAttach(ctx, id, container.AttachOptions{Stream: true, Stdout: true, Stderr: true})
	if err != nil {
		return nil, err
	}
	return hijacked{hr}, nil
}

// hijacked reads an attachment and closes its connection.
type hijacked struct{ hr types.HijackedResponse }

func (h hijacked) Read(p []byte) (int, error) { return h.hr.Reader.Read(p) }
func (h hijacked) Close() error               { h.hr.Close(); return nil }

func (e *sdkEngine) Logs(ctx context.Context, id string, q logQuery) (io.ReadCloser, error) {
	opts := container.LogsOptions{ShowStdout: true, ShowStderr: true, Timestamps: true, Follow: q.Follow}
	if !q.Since.IsZero() {
		// Sent as seconds.nanoseconds: the engine filters at nanosecond
		// precision (inclusively), the caller drops what it already saw.
		opts.Since = q.Since.UTC().Format(time.RFC3339Nano)
	}
	if q.Tail > 0 {
		opts.Tail = strconv.Itoa(q.Tail)
	}
	return e.cli.ContainerLogs(ctx, id, opts)
}

func (e *sdkEngine) ImageInspect(ctx context.Context, ref string) (imageInfo, bool, error) {
	r, err := e.cli.ImageInspect(ctx, ref)
	if err != nil {
		if cerrdefs.IsNotFound(err) {
			return imageInfo{}, false, nil
		}
		return imageInfo{}, false, err
	}
	info := imageInfo{ID: r.ID}
	if r.Config != nil {
		info.Labels = r.Config.Labels
	}
	return info, true, nil
}

func (e *sdkEngine) ImageRemove(ctx context.Context, id string) error {
	_, err := e.cli.ImageRemove(ctx, id, image.RemoveOptions{PruneChildren: true})
	return err
}

func (e *sdkEngine) ImageBuild(ctx context.Context, tarContext io.Reader, tag string, labels map[string]string) error {
	resp, err := e.cli.ImageBuild(ctx, tarContext, build.ImageBuildOptions{
		Tags: []string{tag}, Labels: labels, Remove: true, ForceRemove: true,
	})
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return drainJSONStream(resp.Body)
}

func (e *sdkEngine) ImagePull(ctx context.Context, ref, auth string, progress func(pullProgress)) error {
	rc, err := e.cli.ImagePull(ctx, ref, image.PullOptions{RegistryAuth: auth})
	if err != nil {
		return err
	}
	defer rc.Close()
	return readJSONStream(rc, func(m jsonmessage.JSONMessage) {
		if progress == nil {
			return
		}
		p := pullProgress{Layer: m.ID, Status: m.Status}
		if m.Progress != nil {
			p.Current, p.Total = m.Progress.Current, m.Progress.Total
		}
		progress(p)
	})
}

// drainJSONStream reads a build or pull progress stream to its end.
func drainJSONStream(r io.Reader) error {
	return readJSONStream(r, func(jsonmessage.JSONMessage) {})
}

// readJSONStream hands each message of a progress stream to each until
// the stream ends: the engine reports failures as an error message inside
// a 200 stream.
func readJSONStream(r io.Reader, each func(jsonmessage.JSONMessage)) error {
	dec := json.NewDecoder(r)
	for {
		var m jsonmessage.JSONMessage
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("reading the engine's progress stream: %w", err)
		}
		if m.Error != nil {
			return errors.New(m.Error.Message)
		}
		each(m)
	}
}

// watchedActions are the container events the factory follows.
var watchedActions = []events.Action{events.ActionDie, events.ActionOOM, events.ActionDestroy, events.ActionPause, events.ActionUnPause}

func (e *sdkEngine) Events(ctx context.Context, labels map[string]string) (<-chan containerEvent, <-chan error) {
	args := filters.NewArgs(filters.Arg("type", string(events.ContainerEventType)))
	for k, v := range labels {
		args.Add("label", k+"="+v)
	}
	for _, a := range watchedActions {
		args.Add("event", string(a))
	}
	out := make(chan containerEvent)
	outErr := make(chan error, 1)
	// The client's Events reads the negotiated API version without its
	// lock (docker v28.5.2), racing with the first call that negotiates:
	// a versioned call first settles the version for good.
	if _, err := e.cli.ServerVersion(ctx); err != nil {
		close(out)
		outErr <- err
		return out, outErr
	}
	msgs, errs := e.cli.Events(ctx, events.ListOptions{Filters: args})
	go func() {
		defer close(out)
		for {
			select {
			case m := <-msgs:
				select {
				case out <- containerEvent{ID: m.Actor.ID, Action: string(m.Action)}:
				case <-ctx.Done():
					outErr <- ctx.Err()
					return
				}
			case err := <-errs:
				outErr <- err
				return
			}
		}
	}()
	return out, outErr
}
