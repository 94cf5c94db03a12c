package pool

import (
	"strings"

	"github.com/stemcell-io/stemcell/actors"
)

// sameIdentity reports whether a's identity is id, without building the
// identity (its Name is a concatenation, an allocation per job).
func sameIdentity(id *actors.Identity, a *actors.Activation) bool {
	if id.InvocationNamespace != a.InvocationNamespace || id.Version != a.Action.Version || id.Digest != a.Action.Digest {
		return false
	}
	ns, name := a.Action.Namespace, a.Action.Name
	return len(id.Name) == len(ns)+1+len(name) &&
		strings.HasPrefix(id.Name, ns) && id.Name[len(ns)] == '/' && strings.HasSuffix(id.Name, name)
}
