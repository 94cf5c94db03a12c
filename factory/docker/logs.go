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

// Sentinel is the line a runtime writes on stdout and on stderr after each
// activation.
const Sentinel = "XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX"

// Lines appended to collected logs, as OpenWhisk words them.
const (
	logsTruncatedFmt = "Logs were truncated because the total bytes size exceeds the limit of %d bytes."
)

// logIdleTimeout is the longest wait for the next line while waiting for
// the sentinels.
const logIdleTimeout = 2 * time.Second

// devErrorLogGrace bounds the wait for the sentinels after a developer
// error (a Logs call without WaitForSentinel). OpenWhisk's runtimes write
// the reason and both sentinels just before they answer a failed /init or
// /run, and the answer can overtake those lines on their way through the
// engine's attachment. On the test VM (2 shared cores, engine 20.10, tests
// under -race) they arrived at most 4 ms after the answer
// (TestDeveloperErrorLogsAreKept logs the slowest call); a runtime that
// writes no sentinel at all (a crash) costs the whole bound, once, before
// its container is removed.
const devErrorLogGrace = 50 * time.Millisecond

// logPosition is where the previous Logs call stopped, per stream. The
// engine stamps each stream's lines as its own copier reads them, so time
// order holds within a stream but not across the two: a stderr line can sit
// after a later-stamped stdout line in the log. Positions are therefore kept
// per stream, and lines stamped exactly at a stream's last time are counted
// to skip exactly those (the engine's "since" filter is inclusive).
type logPosition struct {
	last   [2]time.Time // by streamIndex
	atLast [2]int
	seen   [2]bool
}

// sinceSkew covers the cross-stream stamping skew (microseconds in
// practice) when only one stream has been seen so far.
const sinceSkew = time.Second

// since is the engine's "since" for the next read: early enough for both
// streams. A stream never seen had no line before the position, so all its
// lines are new; the seen stream's time, less the skew, bounds the read.
func (p logPosition) since() time.Time {
	switch {
	case p.seen[0] && p.seen[1]:
		if p.last[0].Before(p.last[1]) {
			return p.last[0]
		}
		return p.last[1]
	case p.seen[0]:
		return p.last[0].Add(-sinceSkew)
	case p.seen[1]:
		return p.last[1].Add(-sinceSkew)
	}
	return time.Time{}
}

func streamIndex(stream string) int {
	if stream == "stderr" {
		return 1
	}
	return 0
}

// logFrame is one line of the engine's multiplexed log stream.
type logFrame struct {
	stream string // "stdout" or "stderr"
	time   time.Time
	text   string
}

// Logs returns the lines written since the previous call, formatted as
// OpenWhisk formats them. With WaitForSentinel it follows the log until
// both end-of-activation sentinels arrive.
//
// A container attached at creation takes its lines from the tap (see
// logTap), stamped on arrival; the engine's log takes over for good if the
// attachment ends.
//
// The engine's json-file reader decodes a container's whole log for a
// "since" query, so that read grows with the container's age (about 1 ms
// per 400 lines on the test VM). Once both streams have a position, Logs
// therefore asks only for the log's last lines, sized from the previous
// activation, followed (when waiting) until the sentinels arrive: one
// engine call, whose answer counts only when it provably reaches back past
// the position (tailCoverage). The full read is the fallback.
func (c *Container) Logs(ctx context.Context, req factory.LogRequest) ([]string, error) {
	c.logsMu.Lock()
	defer c.logsMu.Unlock()
	start := time.Now()

	limitMB := int64(req.Limit) >> 20
	overall := time.Duration(max(limitMB, 5)) * 2 * time.Second
	ctx, cancel := context.WithTimeout(ctx, overall)
	defer cancel()

	if c.tap != nil {
		passed := c.tap.sentinelsPassed()
		lines, err := c.tapLogs(ctx, req)
		if !errors.Is(err, errTapEnded) {
			return lines, err
		}
		// The engine's log has every line: go on from where the tap was
		// when this call began.
		c.f.log.Warn().Err(err).Str("container", c.name).Msg("reading logs from the engine from now on")
		c.tap.close()
		c.tap = nil
		if err := c.resync(ctx, passed); err != nil {
			return nil, err
		}
	}

	wait := req.WaitForSentinel
	col := logCollector{limit: int64(req.Limit), pos: c.logPos}
	end, done := passEOF, false
	if n, ok := c.logSizes.tailWindow(c.logPos); ok {
		cov := tailCoverage{pos: c.logPos}
		var err error
		end, err = c.readPass(ctx, &col, logQuery{Tail: n, Follow: wait}, wait, cov.check)
		if err != nil {
			return nil, err
		}
		if done = end != passMiss && cov.covered(); !done {
			c.logTailMisses++
			col = logCollector{limit: int64(req.Limit), pos: c.logPos}
		}
	}
	if !done {
		// After a follow that broke off (idle, deadline), the full read
		// takes what is there instead of waiting all over again.
		follow := wait && end != passBroken
		var err error
		end, err = c.readPass(ctx, &col, logQuery{Since: col.pos.since(), Follow: follow}, wait, nil)
		if err != nil {
			return nil, err
		}
	}
	if !wait && !(col.sentinels["stdout"] && col.sentinels["stderr"]) {
		c.followBriefly(ctx, &col, devErrorLogGrace-time.Since(start))
	}
	// A stream that ended is normal without waiting, a gap when the
	// sentinels never came.
	col.incomplete = end == passBroken || (end == passEOF && wait)
	c.logPos = col.pos
	c.logSizes.add(col.fresh)
	return col.result(time.Now()), nil
}

// followBriefly follows the log for at most d from col's position, up to
// both sentinels: after a developer error the reason and the sentinels the
// runtime wrote before its answer may still be in the engine's copier.
// What this read cannot get (the engine's call itself ran out of time, or
// failed) is left out: the lines taken so far are the activation's log.
func (c *Container) followBriefly(ctx context.Context, col *logCollector, d time.Duration) {
	if d <= 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	_, _ = c.readPass(ctx, col, logQuery{Since: col.pos.since(), Follow: true}, true, nil)
}

// passEnd is how one read of the engine's log ended.
type passEnd int

const (
	passSentinels passEnd = iota // both sentinels arrived (when stopping at them)
	passEOF                      // the engine ended the stream
	passBroken                   // a read error, the idle timeout or the deadline
	passMiss                     // the check refused a frame: this read cannot be used
)

// readPass reads the log selected by q into col. With stopAtSentinels it
// returns at the second sentinel, leaving what follows for the next call.
// check, when set, sees every frame before col does, and ends the read
// when it refuses one.
func (c *Container) readPass(ctx context.Context, col *logCollector, q logQuery, stopAtSentinels bool, check func(logFrame) bool) (passEnd, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	rc, err := c.f.eng.Logs(ctx, c.id, q)
	if err != nil {
		return passBroken, fmt.Errorf("reading logs of container %s: %w", c.name, err)
	}
	frames := make(chan logFrame)
	readErr := make(chan error, 1)
	go func() {
		readErr <- readFrames(rc, frames, ctx.Done())
	}()
	defer func() {
		cancel()
		_ = rc.Close()
		if readErr != nil {
			<-readErr // the reader has returned: no goroutine outlives the call
		}
	}()

	col.skipped = [2]int{} // lines at the position are skipped anew in every read
	idle := time.NewTimer(logIdleTimeout)
	defer idle.Stop()
	for {
		select {
		case fr := <-frames:
			if check != nil && !check(fr) {
				return passMiss, nil
			}
			if col.add(fr) && stopAtSentinels {
				return passSentinels, nil
			}
			if q.Follow {
				idle.Reset(logIdleTimeout)
			}
		case err := <-readErr:
			readErr = nil
			if err != nil && !errors.Is(err, io.EOF) {
				return passBroken, nil
			}
			return passEOF, nil
		case <-idle.C:
			if q.Follow {
				return passBroken, nil
			}
		case <-ctx.Done():
			return passBroken, nil
		}
	}
}

// logSizes remembers how long this container's log is and how many lines
// the last activation wrote, to size the tail read.
type logSizes struct {
	total    int // lines taken by all Logs calls
	lastCall int // lines the previous call took, sentinels included
}

func (s *logSizes) add(n int) {
	s.total += n
	s.lastCall = n
}

// maxTailWindow bounds the tail read: the engine's tail reader costs about
// 10 µs per line here, so past a few hundred lines the full read is as
// cheap.
const maxTailWindow = 512

// tailWindow says how many of the log's last lines to read first, and
// whether to. The window must hold this activation's lines and reach past
// the previous activation on both streams (an action that logs only to
// stdout has its previous stderr line before all of those): twice the
// previous activation plus a margin. A log not longer than the window is
// read whole.
func (s logSizes) tailWindow(pos logPosition) (int, bool) {
	if !pos.seen[0] || !pos.seen[1] {
		return 0, false
	}
	n := 2*s.lastCall + 8
	return n, n <= maxTailWindow && n < s.total
}

// tailCoverage decides whether a read of the log's last lines reached back
// past the position. The engine stamps each stream's lines in the order it
// writes them, so the first line of a stream in the window that is older
// than the stream's position proves that every line before the window is
// older still. A first line stamped exactly at the position does not:
// other lines of that stamp may lie before the window, and the position
// skips such lines by count. A first line that is not older disproves it
// at once (check refuses it); a stream absent from the window proves
// nothing (covered stays false).
type tailCoverage struct {
	pos   logPosition
	first [2]bool // a line of the stream was in the window
	older [2]bool // the stream's first line in the window is older than pos
}

func (t *tailCoverage) check(fr logFrame) bool {
	i := streamIndex(fr.stream)
	if !t.first[i] {
		t.first[i] = true
		t.older[i] = fr.time.Before(t.pos.last[i])
	}
	return t.older[i]
}

func (t *tailCoverage) covered() bool { return t.older[0] && t.older[1] }

// logCollector applies the sentinel, byte-limit and position rules to the
// frames of one Logs call.
type logCollector struct {
	limit      int64
	pos        logPosition
	skipped    [2]int // per stream, lines at pos.last skipped so far
	bytes      int64
	truncated  bool
	incomplete bool
	sentinels  map[string]bool
	lines      []string
	fresh      int // lines after the position, sentinels and dropped lines included
}

// add takes one frame and reports whether both sentinels have now arrived.
func (l *logCollector) add(fr logFrame) bool {
	i := streamIndex(fr.stream)
	p := &l.pos
	switch {
	case !p.seen[i] || fr.time.After(p.last[i]):
		p.seen[i], p.last[i], p.atLast[i] = true, fr.time, 1
	case fr.time.Before(p.last[i]):
		return false
	default: // stamped at the stream's last time
		if l.skipped[i] < p.atLast[i] {
			l.skipped[i]++
			return false
		}
		p.atLast[i]++
	}
	l.fresh++
	if strings.Contains(fr.text, Sentinel) {
		if l.sentinels == nil {
			l.sentinels = map[string]bool{}
		}
		l.sentinels[fr.stream] = true
		return l.sentinels["stdout"] && l.sentinels["stderr"]
	}
	if l.truncated {
		return false
	}
	if l.bytes+int64(len(fr.text)) > l.limit {
		l.truncated = true
		return false
	}
	l.bytes += int64(len(fr.text))
	l.lines = append(l.lines, formatLogLine(fr.time, fr.stream, fr.text))
	return false
}

func (l *logCollector) result(now time.Time) []string {
	out := l.lines
	if l.truncated {
		out = append(out, formatLogLine(now, "stderr", fmt.Sprintf(logsTruncatedFmt, l.limit)))
	}
	if l.incomplete {
		out = append(out, formatLogLine(now, "stderr", factory.MsgLogsIncomplete))
	}
	if out == nil {
		out = []string{}
	}
	return out
}

func formatLogLine(t time.Time, stream, text string) string {
	return factory.FormatLogLine(t, stream, text)
}
