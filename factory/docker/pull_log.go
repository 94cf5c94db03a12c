package docker

import (
	"strings"
	"time"

	"github.com/rs/zerolog"
)

// pullLog turns an engine's pull progress stream into a few log lines: one
// when the pull starts, one every `every` with the layers done and the
// bytes downloaded so far, and one at the end with its outcome.
type pullLog struct {
	log    zerolog.Logger
	every  time.Duration
	start  time.Time
	last   time.Time
	layers map[string]*layerProgress
	order  []string
}

type layerProgress struct {
	done           bool
	current, total int64 // download bytes
}

func newPullLog(log zerolog.Logger, ref string, every time.Duration) *pullLog {
	l := &pullLog{log: log.With().Str("image", ref).Logger(), every: every, start: time.Now(), layers: map[string]*layerProgress{}}
	l.last = l.start
	l.log.Info().Msg("pulling image: it is not on this host, or the pull policy asks for it")
	return l
}

// update takes one progress message.
func (l *pullLog) update(p pullProgress) {
	if p.Layer != "" && p.Status != "" && !isImageStatus(p.Status) {
		lp := l.layers[p.Layer]
		if lp == nil {
			lp = &layerProgress{}
			l.layers[p.Layer] = lp
			l.order = append(l.order, p.Layer)
		}
		switch p.Status {
		case "Downloading":
			lp.current, lp.total = p.Current, p.Total
		case "Download complete", "Verifying Checksum":
			lp.current = lp.total
		case "Pull complete", "Already exists":
			lp.done = true
			lp.current = lp.total
		}
	}
	if now := time.Now(); now.Sub(l.last) >= l.every {
		l.last = now
		done, cur, total := l.totals()
		l.log.Info().Int("layers_done", done).Int("layers", len(l.layers)).
			Int64("downloaded_bytes", cur).Int64("download_bytes", total).
			Dur("elapsed", now.Sub(l.start)).Msg("pulling image")
	}
}

// isImageStatus tells "Pulling from <repository>", whose id field holds
// the tag, from the messages about one layer. The other messages about the
// whole image ("Digest: ...", "Status: ...") have no id.
func isImageStatus(s string) bool { return strings.HasPrefix(s, "Pulling from ") }

func (l *pullLog) totals() (done int, cur, total int64) {
	for _, id := range l.order {
		lp := l.layers[id]
		if lp.done {
			done++
		}
		cur += lp.current
		total += lp.total
	}
	return done, cur, total
}

// done logs the outcome.
func (l *pullLog) done(err error) {
	done, cur, _ := l.totals()
	if err != nil {
		l.log.Warn().Err(err).Dur("elapsed", time.Since(l.start)).Int("layers_done", done).Msg("pulling image failed")
		return
	}
	l.log.Info().Dur("elapsed", time.Since(l.start)).Int("layers", len(l.layers)).Int64("downloaded_bytes", cur).Msg("pulled image")
}
