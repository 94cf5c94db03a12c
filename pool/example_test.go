package pool_test

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/stemcell-io/stemcell/actors"
	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/factory"
	"github.com/stemcell-io/stemcell/factory/fake"
	"github.com/stemcell-io/stemcell/pool"
)

// Example embeds the pool in an actor system the caller owns, with the
// in-memory "fake" container factory, runs an action twice and shuts down.
func Example() {
	sys := actors.NewSystem(zerolog.Nop()) // or any *actor.ActorSystem
	defer sys.Shutdown()

	cfg := config.Default()
	cfg.ContainerFactory.Provider = fake.ProviderName
	fac, err := factory.New(cfg, zerolog.Nop())
	if err != nil {
		fmt.Println(err)
		return
	}
	p, err := pool.Spawn(sys.Root, pool.Options{Config: cfg, Factory: fac, Log: zerolog.Nop(), Name: "example-pool"})
	if err != nil {
		fmt.Println(err)
		return
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	hello := actors.Action{
		Namespace: "guest", Name: "hello", Version: "0.0.1", Digest: "sha256:1", Kind: "js:goja",
		Code:   "function main(p) { return p }",
		Limits: actors.ActionLimits{Memory: 128 * config.MB, Timeout: time.Minute, MaxConcurrency: 1},
	}
	for i, name := range []string{"stem", "cell"} {
		r, err := p.Invoke(ctx, pool.Activation{
			ID:                  fmt.Sprintf("act-%d", i),
			InvocationNamespace: "guest",
			Action:              hello,
			Params:              json.RawMessage(fmt.Sprintf(`{"name":%q}`, name)),
		})
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%s: status %d, %s\n", r.ActivationID, r.Status, r.Response)
	}
	if err := p.Shutdown(ctx); err != nil {
		fmt.Println(err)
	}
	// Output:
	// act-0: status 0, {"name":"stem"}
	// act-1: status 0, {"name":"cell"}
}
