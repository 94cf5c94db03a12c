package docker

import (
	"context"
	"io"
	"time"
)

// engine is the subset of the Docker Engine API the factory uses, in the
// factory's own types.
type engine interface {
	Ping(ctx context.Context) error
	Create(ctx context.Context, spec createSpec) (id string, err error)
	Start(ctx context.Context, id string) error
	Inspect(ctx context.Context, id string) (containerInfo, error)
	Pause(ctx context.Context, id string) error
	Unpause(ctx context.Context, id string) error
	// Remove force-removes a container; an absent container is not an error.
	Remove(ctx context.Context, id string) error
	// List returns all containers (running or not) carrying every label in
	// labels and whose name starts with namePrefix.
	List(ctx context.Context, labels map[string]string, namePrefix string) ([]containerSummary, error)
	// Logs returns the engine's multiplexed log stream with timestamps.
	Logs(ctx context.Context, id string, q logQuery) (io.ReadCloser, error)
	// Attach returns the container's live stdout and stderr, multiplexed
	// as Logs multiplexes them but without timestamps, from now on; Close
	// ends the attachment.
	Attach(ctx context.Context, id string) (io.ReadCloser, error)
	// ImageInspect returns found=false (and no error) when the image is absent.
	ImageInspect(ctx context.Context, ref string) (info imageInfo, found bool, err error)
	ImageBuild(ctx context.Context, tarContext io.Reader, tag string, labels map[string]string) error
	// ImageRemove deletes an image by ID with its untagged parents; an
	// image a container still uses is an error.
	ImageRemove(ctx context.Context, id string) error
	// ImagePull pulls ref; auth is the encoded X-Registry-Auth value or "".
	// progress, when not nil, gets each message of the engine's progress
	// stream on the calling goroutine.
	ImagePull(ctx context.Context, ref, auth string, progress func(pullProgress)) error
	// NetworkInspect returns found=false (and no error) when no network
	// has that name or ID.
	NetworkInspect(ctx context.Context, nameOrID string) (info networkInfo, found bool, err error)
	// NetworkList returns the networks whose name is exactly name; the
	// engine lets several share one.
	NetworkList(ctx context.Context, name string) ([]networkInfo, error)
	// NetworkCreate creates a bridge network with the driver options and
	// labels given and returns its ID; a name taken is a conflict error.
	NetworkCreate(ctx context.Context, name string, options, labels map[string]string) (id string, err error)
	// NetworkRemove removes a network by ID; one with containers on it
	// is an error.
	NetworkRemove(ctx context.Context, id string) error
	// Events streams the die, oom, destroy, pause and unpause events of
	// the containers carrying every label in labels, from now on, until
	// ctx ends or the stream breaks (then the error channel says why).
	Events(ctx context.Context, labels map[string]string) (<-chan containerEvent, <-chan error)
}

// containerEvent is one engine event about a container.
type containerEvent struct {
	ID     string
	Action string // "die", "oom", "destroy", "pause", "unpause"
}

// pullProgress is one message of an image pull's progress stream.
type pullProgress struct {
	Layer          string // the layer's id; empty for messages about the whole image
	Status         string // e.g. "Pulling fs layer", "Downloading", "Pull complete"
	Current, Total int64  // bytes, while downloading or extracting
}

// logQuery selects the part of a container's log to read.
type logQuery struct {
	Since  time.Time // zero: from the start (the engine's filter is inclusive)
	Tail   int       // > 0: only the last Tail lines; 0: all
	Follow bool
}

// createSpec is everything a container is created with.
type createSpec struct {
	Name        string
	Image       string
	Env         []string
	Labels      map[string]string
	Memory      int64 // bytes; memory-swap is set to the same value
	CPUShares   int64
	NanoCPUs    int64
	Network     string
	DNS         []string
	DNSSearch   []string
	DNSOptions  []string
	CapAdd      []string
	CapDrop     []string
	PidsLimit   int64
	Ulimits     []ulimit
	SecurityOpt []string
	ExtraHosts  []string
	Sysctls     map[string]string
	ShmSize     int64
	Tmpfs       map[string]string
	ReadOnly    bool
	User        string
	LogDriver   string
	LogOpts     map[string]string
}

type ulimit struct {
	Name       string
	Soft, Hard int64
}

// containerInfo is what the factory reads back from inspect.
type containerInfo struct {
	ID         string
	Name       string // without the engine's leading "/"
	Running    bool
	Paused     bool
	OOMKilled  bool
	ExitCode   int
	Error      string
	IPs        map[string]string // network name, and network ID, -> IP address
	Labels     map[string]string
	Env        []string
	Memory     int64
	MemorySwap int64
	CPUShares  int64
	NanoCPUs   int64
	Network    string
	DNS        []string
	DNSSearch  []string
	DNSOptions []string
	CapDrop    []string
	PidsLimit  int64
	Ulimits    []ulimit
	LogDriver  string

	// The rest of the hardening profile's settings (hardening.go).
	CapAdd      []string
	SecurityOpt []string
	ReadOnly    bool
	User        string
	Tmpfs       map[string]string
}

type containerSummary struct {
	ID      string
	Name    string // without the leading "/"
	State   string // "running", "paused", "exited", ...
	Labels  map[string]string
	Created time.Time
}

// networkInfo is what the factory reads of a network.
type networkInfo struct {
	ID, Name, Driver string
	Created          time.Time
	Options, Labels  map[string]string
	Gateway          string // the first IPv4 gateway of its address pools; "" if none
}

type imageInfo struct {
	ID     string
	Labels map[string]string
}
