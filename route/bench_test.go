package route

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stemcell-io/stemcell/config"
)

var benchSizes = []int{10, 100, 1000}

// benchView is n invokers of 16 or 32 GB, 20 to 70 % busy, with some idle
// and free memory, and a ledger holding what this front sent a tenth of
// them since their snapshots: a busy cluster, so Place does all its work.
func benchView(n int) ([]Invoker, Ledger) {
	r := rand.New(rand.NewPCG(uint64(n), 1))
	invs := make([]Invoker, n)
	l := Ledger{}
	for i := range invs {
		mem := config.ByteSize(16+16*r.IntN(2)) * config.GB
		b := mem / 100 * config.ByteSize(20+r.IntN(51))
		idle := (mem - b) / 3
		invs[i] = Invoker{
			ID: fmt.Sprintf("10.%d.%d.%d:8080", i/65536, i/256%256, i%256), Incarnation: 1, Revision: int64(r.IntN(1000)),
			UserMemory: mem, Busy: b, Idle: idle, Free: mem - b - idle,
		}
		if i%10 == 0 {
			l.Sent(invs[i], 256*mb)
		}
	}
	return invs, l
}

// benchActions are distinct actions, so the benchmark does not measure one
// key's luck.
func benchActions() []Action {
	as := make([]Action, 1024)
	for i := range as {
		as[i] = Action{Namespace: fmt.Sprintf("tenant%d", i%50), Name: fmt.Sprintf("tenant%d/pkg/action-%d", i%50, i), Version: "0.0.7"}
	}
	return as
}

func BenchmarkRank(b *testing.B) {
	as := benchActions()
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("invokers=%d", n), func(b *testing.B) {
			invs, _ := benchView(n)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				Rank(as[i%len(as)], invs)
				i++
			}
		})
	}
}

func BenchmarkPlace(b *testing.B) {
	as := benchActions()
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("invokers=%d", n), func(b *testing.B) {
			invs, l := benchView(n)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, err := Place(as[i%len(as)], 256*mb, invs, l, Options{}); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

// BenchmarkHash is the floor under both: one hash of an action and an ID.
func BenchmarkHash(b *testing.B) {
	as := benchActions()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		Hash(as[i%len(as)], "10.0.3.17:8080")
		i++
	}
}
