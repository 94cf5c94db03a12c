package docker

import (
	"errors"
	"fmt"
	"net"
	"strings"

	cerrdefs "github.com/containerd/errdefs"

	"github.com/stemcell-io/stemcell/config"
)

// pullFailure is the developer-facing message of a failed pull: OpenWhisk's
// sentence, then why in words a developer can act on. The engine's own
// error, which names registries and resolvers, goes to the invoker's log.
func pullFailure(ref string, err error) string {
	return fmt.Sprintf(msgPullFmt, ref) + " " + pullReason(err)
}

// pullReason sorts the engine's pull errors into what a developer can do
// about them.
func pullReason(err error) string {
	msg := strings.ToLower(err.Error())
	var dnsErr *net.DNSError
	var opErr *net.OpError
	switch {
	case errors.As(err, &dnsErr), errors.As(err, &opErr),
		strings.Contains(msg, "no such host"), strings.Contains(msg, "dial tcp"),
		strings.Contains(msg, "connection refused"), strings.Contains(msg, "i/o timeout"),
		strings.Contains(msg, "tls handshake timeout"), strings.Contains(msg, "deadline exceeded"),
		strings.Contains(msg, "network is unreachable"):
		return "No registry could be reached from the invoker's host; ask its operator to load the image there or to give the host a registry."
	case cerrdefs.IsNotFound(err), strings.Contains(msg, "not found"), strings.Contains(msg, "manifest unknown"),
		strings.Contains(msg, "repository does not exist"), strings.Contains(msg, "pull access denied"),
		strings.Contains(msg, "unauthorized"), strings.Contains(msg, "denied"):
		return "The registry has no such image, or refused access to it: check the image's name and tag."
	}
	return "The engine said: " + err.Error()
}

// missingImage is the developer-facing message when the engine lacks an
// image that the pull policy did not pull.
func missingImage(ref, policy string) string {
	if policy == config.PullNever {
		return fmt.Sprintf(msgPullFmt, ref) + " The image is not on the invoker's host, and its pull policy is never (docker.pull-policy)."
	}
	return fmt.Sprintf(msgPullFmt, ref) + " The image is not on the invoker's host: it was removed after it was found, so it will be pulled again for the next container."
}
