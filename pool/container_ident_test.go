package pool

import (
	"testing"

	"github.com/stemcell-io/stemcell/actors"
)

func TestSameIdentity(t *testing.T) {
	base := actors.Activation{InvocationNamespace: "guest", Action: actors.Action{Namespace: "guest/pkg", Name: "hello", Version: "0.0.1", Digest: "d1"}}
	id := base.Identity()
	tests := []struct {
		name   string
		change func(a *actors.Activation)
		want   bool
	}{
		{"same", func(*actors.Activation) {}, true},
		{"other invocation namespace", func(a *actors.Activation) { a.InvocationNamespace = "other" }, false},
		{"other version", func(a *actors.Activation) { a.Action.Version = "0.0.2" }, false},
		{"other digest", func(a *actors.Activation) { a.Action.Digest = "d2" }, false},
		{"other name", func(a *actors.Activation) { a.Action.Name = "hellO" }, false},
		{"other namespace", func(a *actors.Activation) { a.Action.Namespace = "guest/pkh" }, false},
		// Identity's Name is the concatenation, so this split is the same
		// identity; sameIdentity must agree with Identity() equality.
		{"slash moved into the name", func(a *actors.Activation) { a.Action.Namespace, a.Action.Name = "guest", "pkg/hello" }, true},
		{"slash moved into the namespace", func(a *actors.Activation) { a.Action.Namespace, a.Action.Name = "guest/pkg/", "hello" }, false},
		{"longer name", func(a *actors.Activation) { a.Action.Name = "hello2" }, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := base
			tc.change(&a)
			got := sameIdentity(&id, &a)
			if got != tc.want {
				t.Fatalf("sameIdentity = %v, want %v", got, tc.want)
			}
			if byValue := a.Identity() == id; byValue != got {
				t.Fatalf("sameIdentity %v disagrees with Identity() == %v", got, byValue)
			}
		})
	}
}
