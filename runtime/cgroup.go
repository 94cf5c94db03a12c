package runtime

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// CgroupRoot is where a container sees its own cgroups: the memory
// controller's files are in CgroupRoot/memory under cgroup v1 and in
// CgroupRoot itself under cgroup v2.
const CgroupRoot = "/sys/fs/cgroup"

// unlimited is the smallest value taken for "no limit": cgroup v1 reports
// no limit as a page-rounded MaxInt64, which no machine has.
const unlimited = 1 << 62

// memSample is one reading of the container's memory cgroup.
type memSample struct {
	usage     int64 // bytes charged to the cgroup, page cache included
	anon      int64 // anonymous and shared memory: reclaimable only by swapping
	majFaults int64 // major page faults so far: pages read back from disk
	oomKills  int64 // processes the kernel killed for this cgroup's limit so far
}

// memCgroup reads one memory cgroup, v1 or v2; the files differ in names
// only.
type memCgroup struct {
	dir                              string
	limitFile, usageFile, eventsFile string
	anonKeys                         []string // memory.stat keys summed into anon
	majFaultKey, oomKillKey          string
}

// openMemCgroup finds the memory controller under root (see CgroupRoot):
// cgroup v2 when root has memory.max, else v1 in root/memory.
func openMemCgroup(root string) (*memCgroup, error) {
	v2 := &memCgroup{dir: root, limitFile: "memory.max", usageFile: "memory.current", eventsFile: "memory.events",
		anonKeys: []string{"anon", "shmem"}, majFaultKey: "pgmajfault", oomKillKey: "oom_kill"}
	if _, err := os.Stat(filepath.Join(root, v2.limitFile)); err == nil {
		return v2, nil
	}
	v1 := &memCgroup{dir: filepath.Join(root, "memory"), limitFile: "memory.limit_in_bytes", usageFile: "memory.usage_in_bytes",
		eventsFile: "memory.oom_control", anonKeys: []string{"total_rss", "total_shmem"},
		majFaultKey: "total_pgmajfault", oomKillKey: "oom_kill"}
	if _, err := os.Stat(filepath.Join(v1.dir, v1.limitFile)); err == nil {
		return v1, nil
	}
	return nil, fmt.Errorf("no memory cgroup under %s: neither %s (v2) nor %s (v1) exists",
		root, filepath.Join(root, v2.limitFile), filepath.Join(v1.dir, v1.limitFile))
}

// limit returns the cgroup's memory limit in bytes; 0 means none.
func (c *memCgroup) limit() (int64, error) {
	raw, err := os.ReadFile(filepath.Join(c.dir, c.limitFile))
	if err != nil {
		return 0, fmt.Errorf("reading the memory limit: %w", err)
	}
	s := strings.TrimSpace(string(raw))
	if s == "max" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s: %q is not a byte count: %w", filepath.Join(c.dir, c.limitFile), s, err)
	}
	if n >= unlimited {
		return 0, nil
	}
	return n, nil
}

// sample reads usage, memory.stat and the OOM kill count.
func (c *memCgroup) sample() (memSample, error) {
	var s memSample
	raw, err := os.ReadFile(filepath.Join(c.dir, c.usageFile))
	if err != nil {
		return s, fmt.Errorf("reading the memory usage: %w", err)
	}
	if s.usage, err = strconv.ParseInt(string(bytes.TrimSpace(raw)), 10, 64); err != nil {
		return s, fmt.Errorf("%s: %q is not a byte count: %w", filepath.Join(c.dir, c.usageFile), bytes.TrimSpace(raw), err)
	}
	stat, err := c.readKeyed("memory.stat")
	if err != nil {
		return s, err
	}
	for _, k := range c.anonKeys {
		s.anon += stat[k]
	}
	s.majFaults = stat[c.majFaultKey]
	if s.oomKills, err = c.oomKills(); err != nil {
		return s, err
	}
	return s, nil
}

// oomKills reads how many processes the kernel killed for the limit. A
// kernel too old to count them reports 0.
func (c *memCgroup) oomKills() (int64, error) {
	events, err := c.readKeyed(c.eventsFile)
	if err != nil {
		return 0, err
	}
	return events[c.oomKillKey], nil
}

// readKeyed parses a file of "key value" lines; lines whose value is not an
// integer are skipped.
func (c *memCgroup) readKeyed(name string) (map[string]int64, error) {
	f, err := os.Open(filepath.Join(c.dir, name))
	if err != nil {
		return nil, fmt.Errorf("reading the memory cgroup: %w", err)
	}
	defer f.Close()
	out := make(map[string]int64, 48)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
			out[k] = n
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", filepath.Join(c.dir, name), err)
	}
	return out, nil
}

// errNoMemoryLimit: the container runs without a memory limit, so there is
// nothing to exhaust and nothing to watch.
var errNoMemoryLimit = errors.New("the memory cgroup has no limit")
