package cluster

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// Environment of the child process TestInvokerKilled starts: the test
// binary itself, which registers and blocks until killed.
const (
	childEndpointEnv = "STEMCELL_CLUSTER_CHILD_ENDPOINT"
	childClusterEnv  = "STEMCELL_CLUSTER_CHILD_CLUSTER"
	childIDEnv       = "STEMCELL_CLUSTER_CHILD_ID"
	childTTLEnv      = "STEMCELL_CLUSTER_CHILD_TTL"
)

func TestMain(m *testing.M) {
	if ep := os.Getenv(childEndpointEnv); ep != "" {
		os.Exit(runChild(ep))
	}
	goleak.VerifyTestMain(m)
}

// runChild registers an invoker, prints its incarnation and blocks: the
// parent kills it.
func runChild(endpoint string) int {
	ttl, err := time.ParseDuration(os.Getenv(childTTLEnv))
	if err != nil {
		fmt.Fprintf(os.Stderr, "child: %s: %v\n", childTTLEnv, err)
		return 2
	}
	cli, err := dial(endpoint)
	if err != nil {
		fmt.Fprintf(os.Stderr, "child: %v\n", err)
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := Register(ctx, cli, Options{
		Cluster: os.Getenv(childClusterEnv), ID: os.Getenv(childIDEnv), TTL: ttl,
		Initial: Snapshot{UserMemory: 1 << 30, Free: 1 << 30},
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "child: %v\n", err)
		return 2
	}
	fmt.Printf("registered %d\n", r.Status().Incarnation)
	select {} // until SIGKILL
}
