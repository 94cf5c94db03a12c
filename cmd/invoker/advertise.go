package main

import (
	"fmt"
	"net"

	"github.com/stemcell-io/stemcell/config"
)

// advertisedAddress is where fronts reach this invoker: cluster.address,
// else the address it listens on, provided other hosts can reach that.
func advertisedAddress(c config.ClusterConfig, listen net.Addr) (string, error) {
	if c.Address != "" {
		return c.Address, nil
	}
	tcp, ok := listen.(*net.TCPAddr)
	if ok && tcp.IP.IsUnspecified() {
		return "", fmt.Errorf("the invoker listens on %s, every address of this host: fronts need one of them; set cluster.address (e.g. 10.0.0.1:%d) or server.listen to that address", listen, tcp.Port)
	}
	return listen.String(), nil
}
