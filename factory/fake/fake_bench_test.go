package fake_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stemcell-io/stemcell/factory"
	"github.com/stemcell-io/stemcell/factory/fake"
)

// BenchmarkWarmRun is the fake's share of a warm hit through the pool: it
// must stay far below the pool's own cost.
func BenchmarkWarmRun(b *testing.B) {
	f := fake.New(fake.Options{})
	c, err := f.CreateContainer(context.Background(), factory.ContainerSpec{Name: "bench", Memory: 256 << 20})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.Initialize(ctx, factory.InitRequest{Timeout: time.Second, MaxConcurrency: 1 << 20}); err != nil {
		b.Fatal(err)
	}
	req := factory.RunRequest{Params: json.RawMessage(`{"name":"stemcell"}`), Timeout: time.Minute}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if out, err := c.Run(ctx, req); err != nil || out.Status != factory.StatusSuccess {
				b.Fatal(out, err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if out, err := c.Run(ctx, req); err != nil || out.Status != factory.StatusSuccess {
					b.Error(out, err)
					return
				}
			}
		})
	})
}

// BenchmarkCreateDestroy is a cold cycle with zero latency.
func BenchmarkCreateDestroy(b *testing.B) {
	f := fake.New(fake.Options{})
	ctx := context.Background()
	spec := factory.ContainerSpec{Name: "bench", Memory: 256 << 20}
	b.ReportAllocs()
	for b.Loop() {
		c, err := f.CreateContainer(ctx, spec)
		if err != nil {
			b.Fatal(err)
		}
		if err := c.Destroy(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
