package cluster

import (
	"errors"
	"fmt"
	"strings"
)

// Root is the prefix of every key Stemcell keeps in etcd. The version
// segment lets a later layout live beside this one during an upgrade.
const Root = "/stemcell/v1/"

// ErrInvalid is wrapped by errors for options the registry or the view
// refuses.
var ErrInvalid = errors.New("invalid cluster option")

// InvokersPrefix is the prefix under which the invokers of cluster register:
// /stemcell/v1/<cluster>/invokers/.
func InvokersPrefix(cluster string) string {
	return Root + cluster + "/invokers/"
}

// InvokerKey is the key invoker id registers at.
func InvokerKey(cluster, id string) string {
	return InvokersPrefix(cluster) + id
}

// checkName refuses a name that would make keys ambiguous: empty, or
// holding a slash (a cluster "a/invokers" would overlap cluster "a") or a
// control character.
func checkName(field, v string) error {
	switch {
	case v == "":
		return fmt.Errorf("%w: %s: \"\" is invalid: must not be empty", ErrInvalid, field)
	case strings.Contains(v, "/"):
		return fmt.Errorf("%w: %s: %q is invalid: must not contain '/'", ErrInvalid, field, v)
	case strings.IndexFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0:
		return fmt.Errorf("%w: %s: %q is invalid: must not contain control characters", ErrInvalid, field, v)
	}
	return nil
}
