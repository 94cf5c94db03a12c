package config

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// ClusterConfig joins the invoker to a cluster on etcd. With no endpoints
// (the default) the invoker stands alone and never contacts etcd.
type ClusterConfig struct {
	// Endpoints are etcd's client URLs, e.g. "https://10.0.0.1:2379".
	Endpoints []string `koanf:"endpoints"`
	// Name is the cluster's: its keys live under /stemcell/v1/<name>/.
	Name string `koanf:"name"` // default "default"
	// ID is this invoker's name in the cluster, unique there; empty:
	// invoker.name.
	ID string `koanf:"id"`
	// Address is where fronts reach this invoker's API: host:port or an
	// http(s) URL. Empty: server.listen, which must then name an address
	// other hosts can reach (not 0.0.0.0 or ::).
	Address string `koanf:"address"`
	// LeaseTTL is how long the invoker stays in the fronts' views after
	// it stops renewing its lease (a crash, a partition).
	LeaseTTL    time.Duration `koanf:"lease-ttl"`    // default 15s
	DialTimeout time.Duration `koanf:"dial-timeout"` // default 5s
	Username    string        `koanf:"username"`
	Password    string        `koanf:"password"`
	TLS         ClusterTLS    `koanf:"tls"`
}

// ClusterTLS are the files of a TLS connection to etcd; all empty means
// plain TCP (or the system's roots for an https endpoint).
type ClusterTLS struct {
	CAFile   string `koanf:"ca-file"`
	CertFile string `koanf:"cert-file"`
	KeyFile  string `koanf:"key-file"`
}

// Enabled reports whether the invoker joins a cluster.
func (c ClusterConfig) Enabled() bool { return len(c.Endpoints) > 0 }

// InvokerID is the invoker's id in the cluster: ID, else the invoker's
// name.
func (c ClusterConfig) InvokerID(inv InvokerConfig) string {
	if c.ID != "" {
		return c.ID
	}
	return inv.Name
}

func (c *ClusterConfig) validate(k string, errs *Errors) {
	for i, e := range c.Endpoints {
		if strings.TrimSpace(e) == "" {
			errs.invalid(fmt.Sprintf("%s.endpoints[%d]", k, i), e, "must not be empty")
		}
	}
	if strings.TrimSpace(c.Name) == "" || strings.ContainsAny(c.Name, "/ ") {
		errs.invalid(k+".name", c.Name, `must not be empty, nor hold "/" or spaces (it is part of every key)`)
	}
	if strings.ContainsAny(c.ID, "/ ") {
		errs.invalid(k+".id", c.ID, `must not hold "/" or spaces (it is part of the invoker's key)`)
	}
	if c.Address != "" && !validAddress(c.Address) {
		errs.invalid(k+".address", c.Address, "must be host:port or an http:// or https:// URL with a host")
	}
	if c.LeaseTTL < 2*time.Second {
		errs.invalid(k+".lease-ttl", c.LeaseTTL, "must be >= 2s (etcd counts whole seconds, and a lease renewed every TTL/3 needs room)")
	}
	if c.DialTimeout <= 0 {
		errs.invalid(k+".dial-timeout", c.DialTimeout, "must be > 0")
	}
	if c.Password != "" && c.Username == "" {
		errs.invalid(k+".username", c.Username, "must be set when a password is")
	}
	if (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		errs.invalid(k+".tls.cert-file", c.TLS.CertFile, "cert-file and key-file go together: set both or neither")
	}
}

// validAddress accepts host:port and http(s) URLs with a host.
func validAddress(a string) bool {
	if strings.HasPrefix(a, "http://") || strings.HasPrefix(a, "https://") {
		u, err := url.Parse(a)
		return err == nil && u.Host != ""
	}
	host, port, err := net.SplitHostPort(a)
	n, perr := strconv.Atoi(port)
	return err == nil && host != "" && perr == nil && n > 0 && n < 1<<16
}
