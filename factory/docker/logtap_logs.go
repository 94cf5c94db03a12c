package docker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/stemcell-io/stemcell/factory"
)

// errTapEnded says the attachment ended before an activation's end reached
// it; the engine's log takes over.
var errTapEnded = errors.New("the attachment to the container's output ended")

// tapLogs collects an activation's lines from the tap, up to both
// sentinels. When waiting, the idle timeout and ctx bound the wait and a
// gap is marked; when not (after a developer error), devErrorLogGrace
// bounds it and what has arrived by then is the activation's log.
func (c *Container) tapLogs(ctx context.Context, req factory.LogRequest) ([]string, error) {
	wait := req.WaitForSentinel
	col := logCollector{limit: int64(req.Limit)}
	lost := false
	idle := time.NewTimer(logIdleTimeout)
	defer idle.Stop()
	var grace <-chan time.Time
	if !wait {
		t := time.NewTimer(devErrorLogGrace)
		defer t.Stop()
		grace = t.C
	}
	for {
		fr, ok, l, arrived, ended := c.tap.take()
		lost = lost || l
		if ok {
			if col.add(fr) {
				break
			}
			if wait {
				idle.Reset(logIdleTimeout)
			}
			continue
		}
		if ended != nil {
			if !wait {
				break // what arrived is all there is
			}
			return nil, fmt.Errorf("%w: %w", errTapEnded, ended)
		}
		select {
		case <-arrived:
			continue
		case <-grace:
		case <-idle.C:
			col.incomplete = true
		case <-ctx.Done():
			col.incomplete = wait
		}
		break
	}
	// Lines dropped past the tap's bound are missing, unless the limit
	// cut the activation before them anyway.
	col.incomplete = col.incomplete || (lost && !col.truncated)
	c.logSizes.add(col.fresh)
	return col.result(time.Now()), nil
}

// resync finds, in the engine's log, where collection from the tap stopped:
// on each stream, after the passed[i]-th sentinel. From there the engine's
// log takes over. Lines a call took past a stream's last sentinel (only a
// call that did not wait for the sentinels does) come again: sentinels are
// the only marks the two sources share.
func (c *Container) resync(ctx context.Context, passed [2]int) error {
	rc, err := c.f.eng.Logs(ctx, c.id, logQuery{})
	if err != nil {
		return fmt.Errorf("reading logs of container %s: %w", c.name, err)
	}
	frames := make(chan logFrame)
	readErr := make(chan error, 1)
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		readErr <- readFrames(rc, frames, rctx.Done())
		close(frames)
	}()
	var (
		pos   logPosition
		count [2]int
		run   [2]int // lines of the stream stamped like its latest one
		prev  [2]time.Time
		total int
	)
	for fr := range frames {
		total++
		i := streamIndex(fr.stream)
		if count[i] >= passed[i] {
			continue
		}
		if fr.time.Equal(prev[i]) {
			run[i]++
		} else {
			prev[i], run[i] = fr.time, 1
		}
		if strings.Contains(fr.text, Sentinel) {
			if count[i]++; count[i] == passed[i] {
				pos.seen[i], pos.last[i], pos.atLast[i] = true, fr.time, run[i]
			}
		}
	}
	_ = rc.Close()
	if err := <-readErr; err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("reading logs of container %s: %w", c.name, err)
	}
	if count != passed {
		return fmt.Errorf("logs of container %s: the engine's log holds %v sentinels (stdout, stderr), the attachment passed %v: the log lost lines", c.name, count, passed)
	}
	c.logPos = pos
	c.logSizes = logSizes{total: total}
	return nil
}
