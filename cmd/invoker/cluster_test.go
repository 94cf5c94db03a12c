package main

import (
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/stemcell-io/stemcell/actors"
	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/internal/etcdtest"
	"github.com/stemcell-io/stemcell/route"
	"github.com/stemcell-io/stemcell/store"
)

// The daemon's action documents in cluster mode: one invoker's write is
// read by another through etcd.
func TestClusterStoreSharesActions(t *testing.T) {
	etcd := etcdtest.Start(t)
	cfg := config.Default()
	cfg.Cluster.Endpoints = []string{etcd.Endpoint}
	cfg.Cluster.Name = "cmdtest"
	a, err := openClusterStore(cfg, cfg.Server.MaxBodySize, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	b, err := openClusterStore(cfg, cfg.Server.MaxBodySize, zerolog.Nop())
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

// An invoker's warm keys name its identities the way a front names the
// action it places (front/invoke.go): invocation namespace, the document's
// namespace/name, its version.
func TestWarmKeysMatchTheFront(t *testing.T) {
	a := actors.Activation{InvocationNamespace: "guest", Action: actors.Action{Namespace: "guest/pkg", Name: "hello", Version: "0.0.2"}}
	b := actors.Activation{InvocationNamespace: "alice", Action: actors.Action{Namespace: "guest/pkg", Name: "hello", Version: "0.0.2"}}
	keys := warmKeys([]actors.Identity{a.Identity(), b.Identity(), a.Identity()})
	front := route.WarmKey(route.Action{Namespace: "guest", Name: "guest/pkg" + "/" + "hello", Version: "0.0.2"})
	if len(keys) != 2 || !slices.IsSorted(keys) || !slices.Contains(keys, front) {
		t.Errorf("warm keys %x: want two, sorted, one of them the front's %x", keys, front)
	}
	if warmKeys(nil) != nil {
		t.Error("no identity: want no keys")
	}
}

// Action code lives in etcd in cluster mode: a body limit above what it
// holds is refused at start, naming the setting, before any etcd call.
func TestClusterStoreRefusesBodiesEtcdCannotHold(t *testing.T) {
	cfg := config.Default()
	cfg.Cluster.Endpoints = []string{"http://127.0.0.1:1"}
	_, err := openClusterStore(cfg, 200*config.MB, zerolog.Nop())
	if err == nil || !strings.Contains(err.Error(), "server.max-body-size 200 MB") || !strings.Contains(err.Error(), "120 MB") {
		t.Fatalf("err %v: want the body limit refused, naming it and the most etcd holds", err)
	}
}
