package main

import (
	"fmt"
	"net"
	"net/http"
	"strconv"

	"github.com/rs/zerolog"

	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/factory"
	"github.com/stemcell-io/stemcell/factory/docker"
)

// newContainerFactory makes the configured factory. The Docker one also
// learns where actions reach the daemon's API, for their __OW_API_HOST
// when invoker.api-host is empty: the gateway of the action network at
// the daemon's port.
func newContainerFactory(cfg *config.Config, log zerolog.Logger, api *net.TCPAddr) (factory.ContainerFactory, error) {
	if cfg.ContainerFactory.Provider != docker.ProviderName {
		return factory.New(cfg, log)
	}
	return docker.NewWithOptions(cfg, log, docker.Options{APIHost: func(gateway string) string {
		return "http://" + net.JoinHostPort(apiHostFor(api, gateway), strconv.Itoa(api.Port))
	}})
}

// apiHostFor is the address actions call the API on: the daemon's own
// when it listens on a routable address, else the gateway, where the host
// itself answers for the containers' network.
func apiHostFor(api *net.TCPAddr, gateway string) string {
	if api.IP.IsLoopback() || api.IP.IsUnspecified() {
		return gateway
	}
	return api.IP.String()
}

// gatewayListener opens the API at the action network's gateway when the
// daemon listens on loopback only, where actions cannot reach it. It
// returns nil when nothing needs opening: api-host was set by the
// operator, the daemon listens on every address or a routable one, or the
// containers share the host's network.
func gatewayListener(cfg *config.Config, fac factory.ContainerFactory, api *net.TCPAddr) (net.Listener, error) {
	df, ok := fac.(*docker.Factory)
	if !ok || cfg.Invoker.APIHost != "" || !api.IP.IsLoopback() {
		return nil, nil
	}
	_, gateway := df.ActionNetwork()
	ip := net.ParseIP(gateway)
	if ip == nil || ip.IsLoopback() {
		return nil, nil
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(gateway, strconv.Itoa(api.Port)))
	if err != nil {
		return nil, fmt.Errorf("opening the API to actions at their network's gateway (their __OW_API_HOST): %w; set invoker.api-host, or server.listen to an address they reach", err)
	}
	return ln, nil
}

// serveAlso serves handler on ln until the returned server is shut down.
func serveAlso(ln net.Listener, srv *http.Server, log zerolog.Logger) {
	go func() {
		if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
			log.Error().Err(err).Str("addr", ln.Addr().String()).Msg("the API at the action network's gateway stopped")
		}
	}()
}
