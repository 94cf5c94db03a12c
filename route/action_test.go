package route

import (
	"testing"

	"github.com/cespare/xxhash/v2"
)

// TestHashGolden pins Hash: fronts of different versions must agree, and a
// front written in another language must be able to check itself against
// these values. They were computed here and checked against the xxHash C
// library (Debian's python3-xxhash 3.2.0: xxh64_intdigest(id,
// seed=xxh64_intdigest(key, seed=0))).
func TestHashGolden(t *testing.T) {
	for _, c := range []struct {
		a    Action
		id   string
		key  string
		want uint64
	}{
		{Action{"guest", "guest/pkg/hello", "0.0.3"}, "10.0.0.1:8080", "\x05guest\x0fguest/pkg/hello\x050.0.3", 0xa042b92de7d9776f},
		{Action{"guest", "guest/pkg/hello", "0.0.3"}, "10.0.0.2:8080", "\x05guest\x0fguest/pkg/hello\x050.0.3", 0x6fe5132b1e998d09},
		{Action{}, "", "\x00\x00\x00", 0x0ade70942dff0855},
		{Action{"whisk.system", "whisk.system/utils/echo", "0.0.1"}, "invoker0", "\x0cwhisk.system\x17whisk.system/utils/echo\x050.0.1", 0xd41e8a1ba84b975d},
	} {
		t.Run(c.a.String()+"/"+c.id, func(t *testing.T) {
			if got := string(c.a.AppendKey(nil)); got != c.key {
				t.Errorf("AppendKey = %q, want %q", got, c.key)
			}
			if got := Hash(c.a, c.id); got != c.want {
				t.Errorf("Hash = %#x, want %#x", got, c.want)
			}
			// The definition, spelt out with the library's one-shot API.
			d := xxhash.NewWithSeed(xxhash.Sum64String(c.key))
			d.WriteString(c.id)
			if got := d.Sum64(); got != c.want {
				t.Errorf("XXH64(id, XXH64(key)) = %#x, want %#x", got, c.want)
			}
		})
	}
}

// TestAppendKeyUnambiguous: identities that a plain concatenation, with or
// without a separator, would confuse get different keys and hashes.
func TestAppendKeyUnambiguous(t *testing.T) {
	pairs := [][2]Action{
		{{"ab", "c", ""}, {"a", "bc", ""}},
		{{"a", "b", "c"}, {"a", "", "bc"}},
		{{"a/b", "c", "1"}, {"a", "b/c", "1"}},
		{{"a\x00b", "c", ""}, {"a", "b\x00c", ""}},
		{{"a", "b@1", ""}, {"a", "b", "1"}},
		{{"", "", "x"}, {"x", "", ""}},
	}
	for _, p := range pairs {
		k0, k1 := string(p[0].AppendKey(nil)), string(p[1].AppendKey(nil))
		if k0 == k1 {
			t.Errorf("%q and %q share the key %q", p[0], p[1], k0)
		}
		if Hash(p[0], "i") == Hash(p[1], "i") {
			t.Errorf("%q and %q share a hash", p[0], p[1])
		}
	}
}

// TestAppendKeyLong: a key longer than the stack buffer of seed is hashed
// whole, and a length over 127 takes a two-byte prefix.
func TestAppendKeyLong(t *testing.T) {
	long := make([]byte, 300)
	for i := range long {
		long[i] = 'a' + byte(i%26)
	}
	a := Action{"guest", string(long), "0.0.1"}
	key := a.AppendKey(nil)
	if want := 1 + 5 + 2 + 300 + 1 + 5; len(key) != want {
		t.Fatalf("len(key) = %d, want %d", len(key), want)
	}
	if key[6] != 0xac || key[7] != 0x02 { // 300 = 0b10_0101100
		t.Errorf("length prefix % x, want ac 02", key[6:8])
	}
	b := a
	b.Name = b.Name[:299] + "z" // differs only in the last byte
	if Hash(a, "i") == Hash(b, "i") {
		t.Error("actions differing past byte 128 share a hash")
	}
	if got, want := a.seed(), xxhash.Sum64(key); got != want {
		t.Errorf("seed = %#x, want XXH64(key) = %#x", got, want)
	}
}

func TestActionString(t *testing.T) {
	a := Action{"guest", "guest/pkg/hello", "0.0.3"}
	if got, want := a.String(), "guest:guest/pkg/hello@0.0.3"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
}
