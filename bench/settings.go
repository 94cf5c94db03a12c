package main

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/stemcell-io/stemcell/bench/workload"
	"github.com/stemcell-io/stemcell/config"
)

// setting is one key=value override of a run's configuration: a shorthand
// of the bench (prewarm, stem-cells, user-memory, promotion, idle-container,
// pause-grace) or any configuration key (container-pool.buffer-size=100).
type setting struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

func (s setting) String() string { return s.Key + "=" + s.Value }

// shorthands map the bench's short keys onto configuration keys.
var shorthands = map[string]string{
	"user-memory":    "container-pool.user-memory",
	"promotion":      "container-pool.prewarm-promotion",
	"idle-container": "container-proxy.timeouts.idle-container",
	"pause-grace":    "container-proxy.timeouts.pause-grace",
}

// Keys the bench applies itself, to the runtimes manifest.
const (
	keyPrewarm   = "prewarm"
	keyStemCells = "stem-cells"
)

// parseSettings reads "k=v,k=v" (as --compare and --a/--b take them).
func parseSettings(flag, text string) ([]setting, error) {
	var out []setting
	for _, part := range strings.Split(text, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		s, err := parseSetting(flag, part)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func parseSetting(flag, text string) (setting, error) {
	k, v, ok := strings.Cut(text, "=")
	k = strings.TrimSpace(k)
	if !ok || k == "" {
		return setting{}, fmt.Errorf("--%s: %q is invalid: must be key=value, e.g. prewarm=off", flag, text)
	}
	s := setting{Key: k, Value: strings.TrimSpace(v)}
	switch {
	case k == keyPrewarm:
		if _, err := parseOnOff(s.Value); err != nil {
			return setting{}, fmt.Errorf("--%s: %s: %w", flag, text, err)
		}
	case k == keyStemCells:
		if _, err := parseStemCells(s.Value); err != nil {
			return setting{}, fmt.Errorf("--%s: %s: %w", flag, text, err)
		}
	case k == "promotion":
		if _, err := parseOnOff(s.Value); err != nil {
			return setting{}, fmt.Errorf("--%s: %s: %w", flag, text, err)
		}
	case shorthands[k] != "", strings.Contains(k, "."):
	default:
		known := []string{keyPrewarm, keyStemCells}
		for k := range shorthands {
			known = append(known, k)
		}
		sort.Strings(known)
		return setting{}, fmt.Errorf("--%s: key %q is unknown: use one of %s or a configuration key such as container-pool.buffer-size", flag, k, strings.Join(known, ", "))
	}
	return s, nil
}

func parseOnOff(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "on", "true", "yes", "1":
		return true, nil
	case "off", "false", "no", "0":
		return false, nil
	}
	return false, fmt.Errorf("value %q is invalid: must be on or off", v)
}

// stemCells is a --stem-cells value: "auto[:N]" (N stem cells of every
// memory size the workload's functions use) or "MEM:COUNT,..." (explicit).
type stemCells struct {
	Auto  bool
	Count int               // with Auto
	Cells []config.StemCell // explicit
}

func parseStemCells(v string) (stemCells, error) {
	if v == "auto" || strings.HasPrefix(v, "auto:") {
		n := 2
		if rest, ok := strings.CutPrefix(v, "auto:"); ok {
			var err error
			if n, err = strconv.Atoi(rest); err != nil || n < 1 {
				return stemCells{}, fmt.Errorf("stem cells %q are invalid: auto:N needs a whole N >= 1", v)
			}
		}
		return stemCells{Auto: true, Count: n}, nil
	}
	var sc stemCells
	for _, part := range strings.Split(v, "+") {
		mem, count, ok := strings.Cut(strings.TrimSpace(part), ":")
		if !ok {
			return stemCells{}, fmt.Errorf("stem cells %q are invalid: want auto, auto:N or MEM:COUNT joined by +, e.g. 256m:2+512m:1", v)
		}
		size, err := config.ParseByteSize(mem)
		if err != nil || size <= 0 {
			return stemCells{}, fmt.Errorf("stem cells %q: memory %q is invalid: must be a size > 0 such as 256m", v, mem)
		}
		n, err := strconv.Atoi(count)
		if err != nil || n < 1 {
			return stemCells{}, fmt.Errorf("stem cells %q: count %q is invalid: must be a whole number >= 1", v, count)
		}
		sc.Cells = append(sc.Cells, config.StemCell{InitialCount: n, Memory: size})
	}
	return sc, nil
}

// resolve turns the value into the stem cells of one kind for workload w.
func (sc stemCells) resolve(w *workload.Workload) []config.StemCell {
	if !sc.Auto {
		return append([]config.StemCell(nil), sc.Cells...)
	}
	sizes := map[int]bool{}
	for _, f := range w.Functions {
		sizes[f.MemoryMB] = true
	}
	var mbs []int
	for m := range sizes {
		mbs = append(mbs, m)
	}
	sort.Ints(mbs)
	out := make([]config.StemCell, len(mbs))
	for i, m := range mbs {
		out[i] = config.StemCell{InitialCount: sc.Count, Memory: config.ByteSize(m) * config.MB}
	}
	return out
}

// runConfig is the configuration of one side of a run, as the JSON file
// records it.
type runConfig struct {
	Settings         []setting         `json:"settings"`
	Invoker          string            `json:"invoker,omitempty"` // docker target: names and labels its containers
	UserMemoryMB     int64             `json:"user_memory_mb"`
	Prewarm          bool              `json:"prewarm"`
	StemCells        []config.StemCell `json:"stem_cells"`
	PrewarmPromotion bool              `json:"prewarm_promotion"`
	IdleContainer    string            `json:"idle_container"`
	PauseGrace       string            `json:"pause_grace"`
	BufferSize       int               `json:"buffer_size"`
}

// buildConfig loads the configuration (file, environment, then settings in
// order, later ones winning) and applies prewarm and stem-cells to the
// manifest kind the benchmark's actions use.
func buildConfig(file string, settings []setting, kind string, w *workload.Workload) (*config.Config, runConfig, error) {
	fs := pflag.NewFlagSet("bench-config", pflag.ContinueOnError)
	config.RegisterFlags(fs)
	var args []string
	if file != "" {
		args = append(args, "--"+config.FlagConfig, file)
	}
	prewarm := true
	cells := stemCells{Auto: true, Count: 2}
	for _, s := range settings {
		switch key := s.Key; {
		case key == keyPrewarm:
			prewarm, _ = parseOnOff(s.Value)
		case key == keyStemCells:
			cells, _ = parseStemCells(s.Value)
		default:
			value := s.Value
			if key == "promotion" {
				on, _ := parseOnOff(value)
				value = strconv.FormatBool(on)
			}
			if full := shorthands[key]; full != "" {
				key = full
			}
			args = append(args, "--"+config.FlagSet, key+"="+value)
		}
	}
	if err := fs.Parse(args); err != nil {
		return nil, runConfig{}, fmt.Errorf("configuration settings: %w", err)
	}
	cfg, err := config.Load(config.LoadOptions{Flags: fs})
	if err != nil {
		return nil, runConfig{}, err
	}
	m, err := withStemCells(cfg.RuntimesManifest.Manifest, kind, prewarm, cells.resolve(w))
	if err != nil {
		return nil, runConfig{}, err
	}
	cfg.RuntimesManifest.Manifest = m
	if err := cfg.Validate(); err != nil {
		return nil, runConfig{}, err
	}
	rc := runConfig{
		Settings: settings, UserMemoryMB: cfg.ContainerPool.UserMemory.MBs(), Prewarm: prewarm,
		PrewarmPromotion: cfg.ContainerPool.PrewarmPromotion,
		IdleContainer:    cfg.ContainerProxy.Timeouts.IdleContainer.String(),
		PauseGrace:       cfg.ContainerProxy.Timeouts.PauseGrace.String(),
		BufferSize:       cfg.ContainerPool.BufferSize,
	}
	if prewarm {
		rk, _ := m.ResolveKind(kind)
		rc.StemCells = rk.StemCells
	}
	return cfg, rc, nil
}

// withStemCells returns a copy of m in which kind has cells as its stem
// cells, or in which no kind has any when prewarm is off (the pool then
// runs no prewarm stock at all).
func withStemCells(m config.Manifest, kind string, prewarm bool, cells []config.StemCell) (config.Manifest, error) {
	want, err := m.ResolveKind(kind)
	if err != nil {
		return m, fmt.Errorf("--kind %q: %w", kind, err)
	}
	out := m
	out.Runtimes = make(map[string][]config.RuntimeKind, len(m.Runtimes))
	for fam, kinds := range m.Runtimes {
		cp := append([]config.RuntimeKind(nil), kinds...)
		for i := range cp {
			switch {
			case !prewarm:
				cp[i].StemCells = nil
			case cp[i].Kind == want.Kind:
				cp[i].StemCells = cells
			}
		}
		out.Runtimes[fam] = cp
	}
	return out, nil
}
