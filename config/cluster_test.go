package config

import (
	"strings"
	"testing"
)

func TestClusterConfig(t *testing.T) {
	c, err := Load(LoadOptions{Env: []string{"STEMCELL_CLUSTER__ENDPOINTS=http://10.0.0.1:2379,http://10.0.0.2:2379"}})
	if err != nil {
		t.Fatal(err)
	}
	if !c.Cluster.Enabled() || len(c.Cluster.Endpoints) != 2 || c.Cluster.InvokerID(c.Invoker) != "invoker0" || c.Cluster.Name != "default" {
		t.Errorf("cluster %+v: want two endpoints, id invoker0, name default", c.Cluster)
	}
	if Default().Cluster.Enabled() {
		t.Error("the default configuration joins a cluster; it must stand alone")
	}
	_, err = Load(LoadOptions{Env: []string{
		"STEMCELL_CLUSTER__NAME=a/b", "STEMCELL_CLUSTER__ID=x y", "STEMCELL_CLUSTER__LEASE_TTL=1s",
		"STEMCELL_CLUSTER__PASSWORD=p", "STEMCELL_CLUSTER__TLS__CERT_FILE=c.pem",
		"STEMCELL_CLUSTER__ADDRESS=ftp://x",
	}})
	for _, want := range []string{
		`cluster.name: "a/b" is invalid`, `cluster.id: "x y" is invalid`, "cluster.lease-ttl: 1s is invalid: must be >= 2s",
		"cluster.username", "cluster.tls.cert-file", `cluster.address: "ftp://x" is invalid`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v\nlacks %q", err, want)
		}
	}
}
