package config

import (
	"fmt"
	"slices"
	"strings"
)

// HardeningConfig is how tightly action containers are confined.
type HardeningConfig struct {
	// Profile is ProfileStrict or ProfileOpenWhisk.
	Profile string `koanf:"profile"`
	// CapAdd are the capabilities the strict profile gives back, after it
	// dropped them all, to containers of images other than the invoker's
	// own runtime image (which gets none). Unused by the openwhisk profile.
	CapAdd []string `koanf:"cap-add"`
}

// Profiles of docker.hardening.profile.
const (
	// ProfileStrict: no-new-privileges, every capability dropped but
	// docker.hardening.cap-add, an invoker-owned network without
	// inter-container traffic; the invoker's own runtime image also runs
	// as a non-root user on a read-only root filesystem.
	ProfileStrict = "strict"
	// ProfileOpenWhisk: OpenWhisk's settings exactly (NET_RAW and NET_ADMIN
	// dropped, root, writable root filesystem, the default bridge).
	ProfileOpenWhisk = "openwhisk"
)

// DefaultHardeningCapAdd is what a runtime image running as root needs to
// manage its own files and processes, and nothing that reaches beyond the
// container. Such an image unpacks the action's code as root into its own
// directories, restoring owners, modes and times (CHOWN, FOWNER, FSETID),
// where the permission bits need not let root in without DAC_OVERRIDE; an
// image that runs the action under another user needs SETUID and SETGID
// to switch, and KILL to signal that user's processes. Left out of
// Docker's default set: NET_RAW (OpenWhisk drops it too: raw sockets allow
// spoofing on the bridge), MKNOD, SETFCAP, SETPCAP, SYS_CHROOT, AUDIT_WRITE
// and NET_BIND_SERVICE, which a runtime listening on port 8080 does not use.
func DefaultHardeningCapAdd() []string {
	return []string{"CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID"}
}

// linuxCapabilities are the names of capabilities(7), without "CAP_".
var linuxCapabilities = []string{
	"AUDIT_CONTROL", "AUDIT_READ", "AUDIT_WRITE", "BLOCK_SUSPEND", "BPF", "CHECKPOINT_RESTORE",
	"CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "IPC_LOCK", "IPC_OWNER",
	"KILL", "LEASE", "LINUX_IMMUTABLE", "MAC_ADMIN", "MAC_OVERRIDE", "MKNOD", "NET_ADMIN",
	"NET_BIND_SERVICE", "NET_BROADCAST", "NET_RAW", "PERFMON", "SETFCAP", "SETGID", "SETPCAP",
	"SETUID", "SYS_ADMIN", "SYS_BOOT", "SYS_CHROOT", "SYS_MODULE", "SYS_NICE", "SYS_PACCT",
	"SYS_PTRACE", "SYS_RAWIO", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "SYSLOG", "WAKE_ALARM",
}

// CapabilityName is name as the engine compares it: upper case, without
// the "CAP_" prefix, which Docker accepts either way.
func CapabilityName(name string) string {
	return strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(name)), "CAP_")
}

func (h *HardeningConfig) validate(k string, errs *Errors) {
	if h.Profile != ProfileStrict && h.Profile != ProfileOpenWhisk {
		errs.invalid(k+".profile", h.Profile, "must be "+ProfileStrict+" or "+ProfileOpenWhisk)
	}
	for i, c := range h.CapAdd {
		if n := CapabilityName(c); n != "ALL" && !slices.Contains(linuxCapabilities, n) {
			errs.invalid(fmt.Sprintf("%s.cap-add[%d]", k, i), c, "must be a Linux capability such as CHOWN or CAP_CHOWN (see capabilities(7)), or ALL")
		}
	}
}
