package route

import (
	"encoding/binary"

	"github.com/cespare/xxhash/v2"
)

// Action is what a front places: the identity that warm containers are kept
// for. Every front and every tool that must agree on a ranking has to fill
// it the same way:
//
//   - Namespace is the invocation namespace, the caller's resolved
//     namespace ("guest", never "_"): a container serves one invocation
//     namespace, so two callers of one shared action cannot share one.
//   - Name is the action's fully qualified name with its own namespace
//     and package, without a leading slash ("guest/pkg/hello"; "whisk.system/utils/echo").
//   - Version is the action's version ("0.0.3"). OpenWhisk bumps it on
//     every update, and a container of the old version cannot run the new
//     one, so the code digest would add nothing here.
type Action struct {
	Namespace string
	Name      string
	Version   string
}

// String is for logs and errors: "guest:guest/pkg/hello@0.0.3". It is not
// the canonical form (a namespace or name may hold ':' or '@').
func (a Action) String() string {
	return a.Namespace + ":" + a.Name + "@" + a.Version
}

// AppendKey appends the canonical form of a to dst and returns the result.
// The canonical form is Namespace, Name and Version in this order, each as
// its length in bytes (an unsigned LEB128 varint, as in protobuf) followed
// by its bytes. The length prefixes make it unambiguous for any strings:
// two different actions never share a key.
func (a Action) AppendKey(dst []byte) []byte {
	for _, s := range [...]string{a.Namespace, a.Name, a.Version} {
		dst = binary.AppendUvarint(dst, uint64(len(s)))
		dst = append(dst, s...)
	}
	return dst
}

// WarmKey identifies a in an invoker's list of warm actions
// (Invoker.Warm): XXH64 (seed 0) of a's canonical form, the first half of
// Hash. An invoker computes it for each identity it has an idle container
// of; a front, for the action it places.
func WarmKey(a Action) uint64 { return a.seed() }

// seed is the first half of Hash: XXH64 (seed 0) of a's canonical form.
// Rank and Place compute it once per action, not once per invoker.
func (a Action) seed() uint64 {
	var buf [128]byte // most keys fit: no allocation
	return xxhash.Sum64(a.AppendKey(buf[:0]))
}

// Hash is the 64-bit hash that ranks invoker id for action a:
//
//	XXH64(id, seed = XXH64(canonical form of a, seed = 0))
//
// with XXH64 as specified by the xxHash project (any implementation gives
// the same value) and id as its UTF-8 bytes. It depends on nothing but its
// arguments: no per-process seed (which is why hash/maphash is not used),
// so every front computes the same value. Changing this definition splits
// fronts of different versions: TestHashGolden pins it.
func Hash(a Action, id string) uint64 {
	return hashID(a.seed(), id)
}

func hashID(seed uint64, id string) uint64 {
	var d xxhash.Digest
	d.ResetWithSeed(seed)
	d.WriteString(id)
	return d.Sum64()
}
