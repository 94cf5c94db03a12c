package docker

import (
	"fmt"
	"maps"
	"slices"

	"github.com/stemcell-io/stemcell/config"
)

// What the strict profile (docker.hardening.profile) gives the containers
// of the invoker's own runtime image, which needs no privilege at all: it
// listens on an unprivileged port, reads its cgroup's files (world-
// readable) and writes only below /tmp, where it unpacks native actions.
const (
	// builtinUser is nobody:nogroup, a user that owns no file of the
	// image. The image has no /etc/passwd: the engine takes numbers as is.
	builtinUser = "65534:65534"
	// builtinTmp is the only writable place on the read-only root.
	builtinTmp = "/tmp"
	// tmpfsFallbackSize bounds /tmp when a container has no memory limit,
	// which the pool never asks for.
	tmpfsFallbackSize = 64 << 20
	// tmpfsPerContainer stands for /tmp's options in the base spec until
	// baseFor sizes them for a container; an extra argument for /tmp
	// replaces it and is used as written. Should it ever reach the
	// engine, the engine refuses it: it fails loudly.
	tmpfsPerContainer = "size=per-container"
)

// noNewPrivileges keeps a process and its children from gaining privileges
// through setuid binaries or file capabilities.
const noNewPrivileges = "no-new-privileges:true"

// capAll is Docker's name for every capability.
const capAll = "ALL"

// applyProfile sets the profile's share of a container's spec, before the
// extra arguments: builtin says whether the spec is for the invoker's own
// runtime image.
func applyProfile(s *createSpec, h config.HardeningConfig, builtin bool) {
	if h.Profile == config.ProfileOpenWhisk {
		// OpenWhisk's DockerContainer drops exactly these two.
		s.CapDrop = []string{"NET_RAW", "NET_ADMIN"}
		return
	}
	s.SecurityOpt = []string{noNewPrivileges}
	s.CapDrop = []string{capAll}
	if !builtin {
		s.CapAdd = slices.Clone(h.CapAdd)
		return
	}
	s.User = builtinUser
	s.ReadOnly = true
	s.Tmpfs = map[string]string{builtinTmp: tmpfsPerContainer}
}

// finishCaps makes cap-drop mean the same under both profiles. The engine
// ignores every other dropped name once ALL is dropped and grants exactly
// what is added, so a capability that the operator drops with extra-args
// is taken out of the added ones here.
func finishCaps(s *createSpec) {
	drops := map[string]bool{}
	for _, c := range s.CapDrop {
		drops[config.CapabilityName(c)] = true
	}
	if !drops[capAll] {
		return
	}
	s.CapAdd = slices.DeleteFunc(slices.Clone(s.CapAdd), func(c string) bool { return drops[config.CapabilityName(c)] })
	s.CapDrop = []string{capAll}
}

// tmpfsOptions mounts a tmpfs that native actions can be unpacked into and
// run from (exec; mode 1777 as any /tmp), bounded at half the container's
// memory. Files in a tmpfs are memory charged to the container's own
// memory cgroup, so /tmp and the action's processes share one limit;
// capping /tmp at half gives a runaway writer ENOSPC before it crowds the
// processes out (an out-of-memory abort, and a less helpful error). Half
// of the smallest container (limits.memory.min, 128 MB) still holds the
// largest native executable an action can carry (server.max-body-size,
// 50 MB of base64, is about 37 MB of binary).
func tmpfsOptions(memory int64) string {
	size := memory / 2
	if size <= 0 {
		size = tmpfsFallbackSize
	}
	return fmt.Sprintf("rw,exec,nosuid,nodev,size=%d,mode=1777", size)
}

// isBuiltin says whether ref is an image Init builds from the invoker
// binary: the containers the strict profile confines the most.
func (f *Factory) isBuiltin(ref string) bool { return slices.Contains(f.runtimeTag, ref) }

// baseFor is the configuration's share of a container of image ref with
// memory bytes: the profile's settings for that image, the extra
// arguments on top.
func (f *Factory) baseFor(ref string, memory int64) createSpec {
	if !f.isBuiltin(ref) {
		return f.base
	}
	cs := f.builtinBase
	if cs.Tmpfs[builtinTmp] == tmpfsPerContainer {
		cs.Tmpfs = maps.Clone(cs.Tmpfs)
		cs.Tmpfs[builtinTmp] = tmpfsOptions(memory)
	}
	return cs
}
