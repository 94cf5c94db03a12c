package docker

import (
	"errors"
	"time"

	"github.com/stemcell-io/stemcell/factory"
	"github.com/stemcell-io/stemcell/factory/actionclient"
)

// newRuntimeClient is the one place the factory meets the action client.
func newRuntimeClient(addr string, maxConcurrency int, pooled bool) runtimeClient {
	return actionclient.New(addr, actionclient.Options{MaxConcurrency: maxConcurrency, Pooled: pooled})
}

func isConnectionError(err error) bool {
	var ce *actionclient.ConnectionError
	return errors.As(err, &ce)
}

func connectionOutcome(op string, start, end time.Time, oom bool) factory.Outcome {
	return actionclient.ConnectionOutcome(op, start, end, oom)
}
