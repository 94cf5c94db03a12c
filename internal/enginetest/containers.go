package enginetest

import (
	"context"
	"fmt"
	"os"
	"sort"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
)

// listTimeout bounds one listing or removal round on a busy engine.
const listTimeout = 30 * time.Second

// Containers lists the sorted IDs of the containers, running or not, that
// carry every one of labels ("key=value"), failing tb when the engine
// cannot list them.
func Containers(tb testing.TB, labels ...string) []string {
	tb.Helper()
	ids, err := containers(labels)
	if err != nil {
		tb.Fatal(err)
	}
	return ids
}

// RemoveContainers force-removes the containers that carry every one of
// labels: the last resort after a test that left some behind and said so.
func RemoveContainers(labels ...string) {
	cli, err := Engine()
	if err != nil {
		return
	}
	ids, err := containers(labels)
	if err != nil {
		fmt.Fprintln(os.Stderr, "enginetest:", err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), listTimeout)
	defer cancel()
	for _, id := range ids {
		if err := cli.ContainerRemove(ctx, id, container.RemoveOptions{Force: true}); err != nil {
			fmt.Fprintf(os.Stderr, "enginetest: removing container %s: %v\n", id, err)
		}
	}
}

func containers(labels []string) ([]string, error) {
	if len(labels) == 0 {
		// Every container on a shared engine is nobody's to list.
		return nil, fmt.Errorf("listing containers: no label given, want at least one")
	}
	cli, err := Engine()
	if err != nil {
		return nil, fmt.Errorf("listing containers labelled %v: %w", labels, err)
	}
	args := filters.NewArgs()
	for _, l := range labels {
		args.Add("label", l)
	}
	ctx, cancel := context.WithTimeout(context.Background(), listTimeout)
	defer cancel()
	list, err := cli.ContainerList(ctx, container.ListOptions{All: true, Filters: args})
	if err != nil {
		return nil, fmt.Errorf("listing containers labelled %v: %w", labels, err)
	}
	ids := make([]string, 0, len(list))
	for _, c := range list {
		ids = append(ids, c.ID)
	}
	sort.Strings(ids)
	return ids, nil
}

// Factory is what a Docker factory offers for its end: removing its
// invoker's containers, then releasing its engine client.
type Factory interface {
	Cleanup(ctx context.Context) error
	Close() error
}

// CleanupFactory removes f's containers and closes f when tb ends,
// whatever happened; a failed removal fails tb.
func CleanupFactory(tb testing.TB, f Factory) {
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := f.Cleanup(ctx); err != nil {
			tb.Errorf("factory cleanup: %v", err)
		}
		_ = f.Close()
	})
}
