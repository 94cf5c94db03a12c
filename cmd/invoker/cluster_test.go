package main

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/internal/etcdtest"
	"github.com/stemcell-io/stemcell/store"
)

// The daemon's action documents in cluster mode: one invoker's write is
// read by another through etcd.
func TestClusterStoreSharesActions(t *testing.T) {
	etcd := etcdtest.Start(t)
	cfg := config.Default()
	cfg.Cluster.Endpoints = []string{etcd.Endpoint}
	cfg.Cluster.Name = "cmdtest"
	a, err := openClusterStore(cfg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	b, err := openClusterStore(cfg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer b.close()
	code := "function main() { return {} }"
	_, err = a.actions.PutAction("guest", "hello", func(old *store.Action) (*store.Action, error) {
		if old != nil {
			return nil, store.ErrExists
		}
		return &store.Action{Namespace: "guest", Name: "hello", Exec: store.Exec{Kind: "nodejs:20", Code: &code}}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	doc, err := b.actions.GetAction("guest", "hello")
	if err != nil || doc.Exec.Code == nil || *doc.Exec.Code != code {
		t.Fatalf("the other invoker reads %+v, %v", doc, err)
	}
	if _, err := b.actions.GetAction("guest", "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing action: %v, want not found", err)
	}
}

func TestDialEtcdRefusesBadTLS(t *testing.T) {
	cc := config.Default().Cluster
	cc.Endpoints = []string{"https://127.0.0.1:1"}
	cc.DialTimeout = time.Second
	cc.TLS.CAFile = filepath.Join(t.TempDir(), "missing.pem")
	_, err := dialEtcd(cc)
	if err == nil || !strings.Contains(err.Error(), "cluster.tls.ca-file") {
		t.Fatalf("err = %v, want one naming cluster.tls.ca-file", err)
	}
}
