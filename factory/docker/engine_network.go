package docker

import (
	"context"
	"net"
	"slices"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
)

func (e *sdkEngine) NetworkInspect(ctx context.Context, nameOrID string) (networkInfo, bool, error) {
	r, err := e.cli.NetworkInspect(ctx, nameOrID, network.InspectOptions{})
	if err != nil {
		if cerrdefs.IsNotFound(err) {
			return networkInfo{}, false, nil
		}
		return networkInfo{}, false, err
	}
	return toNetworkInfo(r), true, nil
}

func (e *sdkEngine) NetworkList(ctx context.Context, name string) ([]networkInfo, error) {
	// The engine's name filter matches substrings; the loop below keeps
	// the exact name.
	l, err := e.cli.NetworkList(ctx, network.ListOptions{Filters: filters.NewArgs(filters.Arg("name", name))})
	if err != nil {
		return nil, err
	}
	var out []networkInfo
	for _, n := range l {
		if n.Name == name {
			out = append(out, toNetworkInfo(n))
		}
	}
	return out, nil
}

func (e *sdkEngine) NetworkCreate(ctx context.Context, name string, options, labels map[string]string) (string, error) {
	// The client asks API 1.41 to refuse a taken name (CheckDuplicate);
	// the engine does so on a best-effort basis only.
	r, err := e.cli.NetworkCreate(ctx, name, network.CreateOptions{Driver: "bridge", Options: options, Labels: labels})
	if err != nil {
		return "", err
	}
	return r.ID, nil
}

func (e *sdkEngine) NetworkRemove(ctx context.Context, id string) error {
	return e.cli.NetworkRemove(ctx, id)
}

func toNetworkInfo(n network.Inspect) networkInfo {
	info := networkInfo{ID: n.ID, Name: n.Name, Driver: n.Driver, Created: n.Created, Options: n.Options, Labels: n.Labels}
	for _, c := range n.IPAM.Config {
		if gw := ipv4Gateway(c); gw != "" {
			info.Gateway = gw
			break
		}
	}
	return info
}

// ipv4Gateway is the pool's IPv4 gateway. The engine may leave it out (its
// default bridge does, here), and then its address manager has given the
// gateway the subnet's first address.
func ipv4Gateway(c network.IPAMConfig) string {
	if ip := net.ParseIP(c.Gateway); ip != nil && ip.To4() != nil {
		return ip.String()
	}
	_, subnet, err := net.ParseCIDR(c.Subnet)
	if c.Gateway != "" || err != nil || subnet.IP.To4() == nil {
		return ""
	}
	ip := slices.Clone(subnet.IP.To4())
	ip[3]++
	return ip.String()
}
