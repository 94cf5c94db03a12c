package docker

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	cerrdefs "github.com/containerd/errdefs"

	"github.com/stemcell-io/stemcell/config"
)

// DefaultActionNetwork is the bridge network the strict profile puts
// action containers on (container-factory.container-args.network empty).
// There is one per host, shared by all its invokers: inter-container
// traffic is off, so sharing it lets no action reach another, and one
// network per invoker would soon use up the engine's address pools.
const DefaultActionNetwork = "stemcell-actions"

// iccOption is the bridge driver's switch for traffic between the
// containers of one network.
const iccOption = "com.docker.network.bridge.enable_icc"

// Networks the engine always has.
const (
	defaultBridge = "bridge"
	hostNetwork   = "host"
)

// networkFor is the network of action containers before Init: the
// configured one, or the profile's; owned says the factory creates it.
func networkFor(cfg *config.Config, opts Options) (name string, owned bool) {
	switch n := cfg.ContainerFactory.ContainerArgs.Network; {
	case n == "default":
		return defaultBridge, false
	case n != "":
		return n, false
	case cfg.Docker.Hardening.Profile == config.ProfileOpenWhisk:
		return defaultBridge, false
	case opts.ActionNetwork != "":
		return opts.ActionNetwork, true
	default:
		return DefaultActionNetwork, true
	}
}

// actionNetwork is the network Init settled on.
type actionNetwork struct {
	mu            sync.Mutex
	name, gateway string
}

// ActionNetwork names the network of action containers and its IPv4
// gateway, the host's address on it, where actions reach the invoker; the
// gateway is "127.0.0.1" on the host network and "" when the engine names
// none. Both are empty before Init.
func (f *Factory) ActionNetwork() (name, gateway string) {
	f.actionNet.mu.Lock()
	defer f.actionNet.mu.Unlock()
	return f.actionNet.name, f.actionNet.gateway
}

// initNetwork settles the network of action containers once, at Init, so
// that no creation pays an engine call for it. A configured network must
// exist. The strict profile takes the engine's default bridge when the
// engine already keeps that bridge's containers apart (the daemon's "icc":
// false), since containers join a user-defined network more slowly (the
// engine sets up its DNS resolver in each one); otherwise it creates its
// own network when missing, and containers join that by ID, which stays
// unambiguous should a racing invoker have made a second one of the name.
func (f *Factory) initNetwork(ctx context.Context) error {
	name, id, gateway := f.base.Network, f.base.Network, ""
	switch {
	case f.ownedNetwork != "":
		n, err := f.ownNetwork(ctx)
		if err != nil {
			return err
		}
		name, id, gateway = n.Name, n.ID, n.Gateway
		if name == defaultBridge {
			// The engine treats the default bridge by its name (no
			// DNS resolver, legacy links); its ID would make it a
			// user-defined network in some of its checks.
			id = defaultBridge
		}
	case name == hostNetwork:
		gateway = "127.0.0.1"
	default:
		n, found, err := f.networkInspect(ctx, name)
		switch {
		case err != nil:
			return fmt.Errorf("container-factory.container-args.network %q: inspecting it: %w", name, err)
		case !found:
			return fmt.Errorf("container-factory.container-args.network %q: the engine has no such network: create it, or leave the key empty for the hardening profile's", name)
		}
		gateway = n.Gateway
	}
	f.base.Network, f.builtinBase.Network = id, id
	f.setDefaultAPIHost(gateway)
	f.actionNet.mu.Lock()
	f.actionNet.name, f.actionNet.gateway = name, gateway
	f.actionNet.mu.Unlock()
	f.log.Info().Str("network", name).Str("gateway", gateway).Msg("action containers' network")
	return nil
}

// ownNetwork returns the strict profile's network: the default bridge when
// the engine keeps its containers apart, else f.ownedNetwork, created
// when missing. The engine checks names at creation only on a best-effort
// basis (concurrent creations of one name all succeed), so every invoker
// takes the oldest network of the name, and one that has just created
// another removes its own again: nothing else can be on it yet.
func (f *Factory) ownNetwork(ctx context.Context) (networkInfo, error) {
	key := fmt.Sprintf("network %q (docker.hardening.profile %s)", f.ownedNetwork, config.ProfileStrict)
	bridge, found, err := f.networkInspect(ctx, defaultBridge)
	if err != nil {
		return networkInfo{}, fmt.Errorf("%s: inspecting the default bridge: %w", key, err)
	}
	if found && bridge.Options[iccOption] == "false" {
		return bridge, nil
	}
	unlock, err := lockHostNetwork()
	if err != nil {
		// Not fatal: the oldest-network rule below still converges.
		f.log.Warn().Err(err).Str("network", f.ownedNetwork).Msg("creating the network without the host's lock")
		unlock = func() {}
	}
	defer unlock()
	nets, err := f.networksNamed(ctx, f.ownedNetwork)
	if err != nil {
		return networkInfo{}, fmt.Errorf("%s: %w", key, err)
	}
	created := ""
	if len(nets) == 0 {
		cctx, cancel := withTimeout(ctx, f.timeouts.Run)
		created, err = f.eng.NetworkCreate(cctx, f.ownedNetwork, map[string]string{iccOption: "false"}, map[string]string{LabelManaged: "true"})
		cancel()
		if err != nil && !cerrdefs.IsConflict(err) {
			return networkInfo{}, fmt.Errorf("%s: creating it: %w", key, err)
		}
		if created != "" {
			f.log.Info().Str("network", f.ownedNetwork).Str("id", created).Msg("created the action containers' network")
		}
		if nets, err = f.networksNamed(ctx, f.ownedNetwork); err != nil {
			return networkInfo{}, fmt.Errorf("%s: %w", key, err)
		}
		if len(nets) == 0 {
			return networkInfo{}, fmt.Errorf("%s: the engine lists no network of that name right after creating it", key)
		}
	}
	for _, n := range nets {
		if n.Labels[LabelManaged] != "true" {
			return networkInfo{}, fmt.Errorf("%s: network %s of that name was not made by Stemcell (no label %s=true), so nothing says its containers are kept apart: remove or rename it, or set container-factory.container-args.network to use a network as is", key, n.ID, LabelManaged)
		}
	}
	oldest := slices.MinFunc(nets, func(a, b networkInfo) int {
		return cmp.Or(a.Created.Compare(b.Created), cmp.Compare(a.ID, b.ID))
	})
	if created != "" && created != oldest.ID {
		rctx, cancel := withTimeout(ctx, f.timeouts.Rm)
		if err := f.eng.NetworkRemove(rctx, created); err != nil && !cerrdefs.IsNotFound(err) {
			f.log.Warn().Err(err).Str("network", f.ownedNetwork).Str("id", created).Msg("removing the duplicate network this invoker created failed; it stays unused")
		}
		cancel()
	}
	if oldest.Driver != "bridge" || oldest.Options[iccOption] != "false" {
		return networkInfo{}, fmt.Errorf("%s: network %s has driver %q and %s=%q: want a bridge network with %s=false; remove it so that it is made anew", key, oldest.ID, oldest.Driver, iccOption, oldest.Options[iccOption], iccOption)
	}
	return oldest, nil
}

func (f *Factory) networkInspect(ctx context.Context, name string) (networkInfo, bool, error) {
	ctx, cancel := withTimeout(ctx, f.timeouts.Inspect)
	defer cancel()
	return f.eng.NetworkInspect(ctx, name)
}

func (f *Factory) networksNamed(ctx context.Context, name string) ([]networkInfo, error) {
	ctx, cancel := withTimeout(ctx, f.timeouts.Ps)
	defer cancel()
	nets, err := f.eng.NetworkList(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("listing networks: %w", err)
	}
	return nets, nil
}

// setDefaultAPIHost gives actions an __OW_API_HOST they can reach when
// invoker.api-host is empty and Options.APIHost can make one from the
// gateway; OpenWhisk always sets it, and actions that call back with the
// OpenWhisk client need it.
func (f *Factory) setDefaultAPIHost(gateway string) {
	if f.cfg.Invoker.APIHost != "" {
		return
	}
	host := ""
	if f.opts.APIHost != nil && gateway != "" {
		host = f.opts.APIHost(gateway)
	}
	if host == "" {
		f.log.Warn().Str("gateway", gateway).Msg("actions get an empty __OW_API_HOST: set invoker.api-host to an address they can reach")
		return
	}
	for _, s := range []*createSpec{&f.base, &f.builtinBase} {
		s.Env = slices.Clone(s.Env)
		for i, kv := range s.Env {
			if strings.HasPrefix(kv, "__OW_API_HOST=") {
				s.Env[i] = "__OW_API_HOST=" + host
			}
		}
	}
	f.log.Info().Str("api_host", host).Msg("__OW_API_HOST of actions (invoker.api-host is empty)")
}
