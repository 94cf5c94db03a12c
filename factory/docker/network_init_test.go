package docker

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/rs/zerolog"

	"github.com/stemcell-io/stemcell/config"
)

// netEngine is an engine with networks only, in memory, where a racing
// invoker can be played: onCreate runs inside NetworkCreate, after the
// network was made.
type netEngine struct {
	engine
	mu       sync.Mutex
	nets     []networkInfo
	seq      int
	onCreate func(e *netEngine)
	removed  []string
	inspects []string
}

func (e *netEngine) add(n networkInfo) string {
	e.seq++
	if n.ID == "" {
		n.ID = fmt.Sprintf("net%02d", e.seq)
	}
	if n.Created.IsZero() {
		n.Created = time.Unix(int64(1000+e.seq), 0)
	}
	e.nets = append(e.nets, n)
	return n.ID
}

func (e *netEngine) NetworkInspect(_ context.Context, nameOrID string) (networkInfo, bool, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.inspects = append(e.inspects, nameOrID)
	for _, n := range e.nets {
		if n.Name == nameOrID || n.ID == nameOrID {
			return n, true, nil
		}
	}
	return networkInfo{}, false, nil
}

func (e *netEngine) NetworkList(_ context.Context, name string) ([]networkInfo, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []networkInfo
	for _, n := range e.nets {
		if n.Name == name {
			out = append(out, n)
		}
	}
	return out, nil
}

func (e *netEngine) NetworkCreate(_ context.Context, name string, options, labels map[string]string) (string, error) {
	e.mu.Lock()
	id := e.add(networkInfo{Name: name, Driver: "bridge", Options: options, Labels: labels, Gateway: fmt.Sprintf("10.0.%d.1", e.seq+1)})
	hook := e.onCreate
	e.mu.Unlock()
	if hook != nil {
		hook(e)
	}
	return id, nil
}

func (e *netEngine) NetworkRemove(_ context.Context, id string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	i := slices.IndexFunc(e.nets, func(n networkInfo) bool { return n.ID == id })
	if i < 0 {
		return cerrdefs.ErrNotFound
	}
	e.nets = slices.Delete(e.nets, i, i+1)
	e.removed = append(e.removed, id)
	return nil
}

var (
	iccOn  = map[string]string{iccOption: "true"}
	iccOff = map[string]string{iccOption: "false"}
	ours   = map[string]string{LabelManaged: "true"}
)

// TestInitNetwork drives Init's choice of network over an engine in
// memory; the engine tests (TestActionNetworkOnTheEngine) run the common
// cases for real.
func TestInitNetwork(t *testing.T) {
	bridge := networkInfo{ID: "bridge-id", Name: "bridge", Driver: "bridge", Options: iccOn, Gateway: "172.17.0.1"}
	tests := []struct {
		name        string
		network     string // container-args.network
		profile     string
		nets        []networkInfo
		onCreate    func(e *netEngine)
		wantName    string
		wantMode    string // what containers are created with
		wantGateway string
		wantRemoved []string
		wantNets    int // networks named stemcell-actions afterwards
		wantErr     string
	}{
		{name: "strict creates its network", nets: []networkInfo{bridge},
			wantName: DefaultActionNetwork, wantMode: "net02", wantGateway: "10.0.2.1", wantNets: 1},
		{name: "strict uses the one there", nets: []networkInfo{bridge, {ID: "old", Name: DefaultActionNetwork, Driver: "bridge", Options: iccOff, Labels: ours, Gateway: "10.9.0.1"}},
			wantName: DefaultActionNetwork, wantMode: "old", wantGateway: "10.9.0.1", wantNets: 1},
		{name: "a racer's older network wins and ours goes", nets: []networkInfo{bridge},
			onCreate: func(e *netEngine) {
				e.onCreate = nil
				e.mu.Lock()
				e.add(networkInfo{ID: "racer", Name: DefaultActionNetwork, Driver: "bridge", Options: iccOff, Labels: ours, Gateway: "10.8.0.1", Created: time.Unix(1, 0)})
				e.mu.Unlock()
			},
			wantName: DefaultActionNetwork, wantMode: "racer", wantGateway: "10.8.0.1", wantRemoved: []string{"net02"}, wantNets: 1},
		{name: "a racer's newer network stays theirs", nets: []networkInfo{bridge},
			onCreate: func(e *netEngine) {
				e.onCreate = nil
				e.mu.Lock()
				e.add(networkInfo{ID: "racer", Name: DefaultActionNetwork, Driver: "bridge", Options: iccOff, Labels: ours, Gateway: "10.8.0.1", Created: time.Unix(9999, 0)})
				e.mu.Unlock()
			},
			wantName: DefaultActionNetwork, wantMode: "net02", wantGateway: "10.0.2.1", wantNets: 2},
		{name: "the default bridge when the engine keeps its containers apart",
			nets:     []networkInfo{{ID: "bridge-id", Name: "bridge", Driver: "bridge", Options: iccOff, Gateway: "172.17.0.1"}},
			wantName: "bridge", wantMode: "bridge", wantGateway: "172.17.0.1"},
		{name: "someone else's network of our name", nets: []networkInfo{bridge, {ID: "theirs", Name: DefaultActionNetwork, Driver: "bridge", Options: iccOff}},
			wantErr: `network "stemcell-actions" (docker.hardening.profile strict): network theirs of that name was not made by Stemcell`},
		{name: "ours but with inter-container traffic on", nets: []networkInfo{bridge, {ID: "leaky", Name: DefaultActionNetwork, Driver: "bridge", Options: iccOn, Labels: ours}},
			wantErr: `network leaky has driver "bridge" and com.docker.network.bridge.enable_icc="true": want a bridge network with com.docker.network.bridge.enable_icc=false`},
		{name: "openwhisk: the default bridge", profile: config.ProfileOpenWhisk, nets: []networkInfo{bridge},
			wantName: "bridge", wantMode: "bridge", wantGateway: "172.17.0.1"},
		{name: "a configured network", network: "ops", nets: []networkInfo{bridge, {ID: "ops-id", Name: "ops", Driver: "bridge", Gateway: "10.7.0.1"}},
			wantName: "ops", wantMode: "ops", wantGateway: "10.7.0.1"},
		{name: "a configured network that is missing", network: "nope", nets: []networkInfo{bridge},
			wantErr: `container-factory.container-args.network "nope": the engine has no such network`},
		{name: "the host network", network: "host", nets: []networkInfo{bridge},
			wantName: "host", wantMode: "host", wantGateway: "127.0.0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config.Default()
			cfg.ContainerFactory.ContainerArgs.Network = tt.network
			if tt.profile != "" {
				cfg.Docker.Hardening.Profile = tt.profile
			}
			e := &netEngine{onCreate: tt.onCreate}
			for _, n := range tt.nets {
				e.add(n)
			}
			f, err := newFactory(cfg, zerolog.Nop(), e, Options{RuntimeImages: []string{}})
			if err != nil {
				t.Fatal(err)
			}
			err = f.initNetwork(context.Background())
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			name, gw := f.ActionNetwork()
			if name != tt.wantName || gw != tt.wantGateway || f.base.Network != tt.wantMode || f.builtinBase.Network != tt.wantMode {
				t.Errorf("network %q gateway %q, containers on %q/%q; want %q %q on %q", name, gw, f.base.Network, f.builtinBase.Network, tt.wantName, tt.wantGateway, tt.wantMode)
			}
			if !equalStrings(e.removed, tt.wantRemoved) {
				t.Errorf("removed %v, want %v", e.removed, tt.wantRemoved)
			}
			if left, _ := e.NetworkList(context.Background(), DefaultActionNetwork); len(left) != tt.wantNets {
				t.Errorf("%d networks named %s, want %d", len(left), DefaultActionNetwork, tt.wantNets)
			}
			if tt.network == "host" && len(e.inspects) != 0 {
				t.Errorf("inspected %v for the host network", e.inspects)
			}
		})
	}
}
