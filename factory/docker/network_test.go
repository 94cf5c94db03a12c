package docker

import (
	"context"
	"testing"

	"github.com/docker/docker/api/types/network"

	"github.com/stemcell-io/stemcell/factory"
)

func TestUserDefinedNetwork(t *testing.T) {
	needEngine(t)
	cfg := testConfig(t)
	name := "t-net-" + randomSuffix()
	nw, err := testEnv.eng.cli.NetworkCreate(testCtx(t), name, network.CreateOptions{Driver: "bridge", Labels: map[string]string{LabelManaged: "true"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := testEnv.eng.cli.NetworkRemove(context.Background(), nw.ID); err != nil {
			t.Errorf("removing network %s: %v", name, err)
		}
	})
	// Cleanups run last-in first-out: the factory's removes the containers
	// before the network goes.
	f := newTestFactory(t, cfg)
	cfg.ContainerFactory.ContainerArgs.Network = name
	f.base.Network = name
	c := create(t, f, specFor(f, testEnv.fakeImage, false, nil))
	info, err := testEnv.eng.Inspect(testCtx(t), c.ID())
	if err != nil {
		t.Fatal(err)
	}
	if info.Network != name || info.IPs[name] == "" || c.Addr() != info.IPs[name]+":8080" {
		t.Fatalf("network %q, IPs %v, addr %q: want the address on %s", info.Network, info.IPs, c.Addr(), name)
	}
	out, err := c.Run(testCtx(t), runReq(`{"on":"custom network"}`))
	if err != nil || out.Status != factory.StatusSuccess {
		t.Fatalf("run: %v %s", err, out.Result)
	}
	if err := c.Destroy(testCtx(t)); err != nil {
		t.Fatal(err)
	}
}
