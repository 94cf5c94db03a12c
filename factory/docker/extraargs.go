package docker

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	units "github.com/docker/go-units"
)

// extraArgKey is the configuration path of the extra arguments, used in
// error messages so that an operator finds the offending key.
const extraArgKey = "container-factory.container-args.extra-args"

// ExtraArgFlags documents the `docker run` flags accepted in
// container-factory.container-args.extra-args and how each maps onto the
// container. Every value of a flag is applied in order, as OpenWhisk repeats
// the flag once per value. Any other flag is a configuration error: the
// engine API has no command line to pass an unknown flag through to, and
// silently dropping it would hide a broken setting.
var ExtraArgFlags = map[string]string{
	"label":        "k=v: a container label (the factory's own io.stemcell.* labels win)",
	"env":          "K=V: an environment variable",
	"ulimit":       "name=soft[:hard]: a resource limit (replaces the default of the same name)",
	"cap-add":      "a Linux capability to add, after the hardening profile's",
	"cap-drop":     "a Linux capability to drop, besides the hardening profile's (under strict: taken out of those added back)",
	"security-opt": "a security option, e.g. seccomp=<profile>; after the profile's, so no-new-privileges:false overrides strict",
	"add-host":     "host:ip: an /etc/hosts entry",
	"sysctl":       "k=v: a namespaced kernel parameter",
	"shm-size":     "a size such as 64m: the size of /dev/shm",
	"tmpfs":        "/path[:options]: a tmpfs mount (one on /tmp replaces the strict profile's)",
	"read-only":    "true|false: mount the root filesystem read-only (empty means true); overrides the profile",
	"user":         "user[:group]: the user the runtime runs as; overrides the profile",
	"pids-limit":   "a number: replaces the default limit of 1024 processes",
	"log-opt":      "k=v: a json-file log driver option, e.g. max-size=10m",
}

// applyExtraArgs maps the configured extra arguments onto spec. Flags are
// applied in sorted order so the result does not depend on map iteration.
func applyExtraArgs(spec *createSpec, args map[string][]string) error {
	flags := make([]string, 0, len(args))
	for f := range args {
		flags = append(flags, f)
	}
	sort.Strings(flags)
	for _, flag := range flags {
		name := strings.TrimLeft(flag, "-")
		if _, ok := ExtraArgFlags[name]; !ok {
			return fmt.Errorf("%s.%s: unknown flag: must be one of %s", extraArgKey, flag, strings.Join(sortedFlags(), ", "))
		}
		for i, v := range args[flag] {
			if err := applyExtraArg(spec, name, v); err != nil {
				return fmt.Errorf("%s.%s[%d]: %q is invalid: %w", extraArgKey, flag, i, v, err)
			}
		}
	}
	return nil
}

func applyExtraArg(spec *createSpec, flag, v string) error {
	switch flag {
	case "label":
		k, val, _ := strings.Cut(v, "=")
		if k == "" {
			return fmt.Errorf("must be key=value")
		}
		if _, taken := spec.Labels[k]; !taken {
			spec.Labels[k] = val
		}
	case "env":
		if k, _, _ := strings.Cut(v, "="); k == "" {
			return fmt.Errorf("must be KEY=value")
		}
		spec.Env = append(spec.Env, v)
	case "ulimit":
		u, err := units.ParseUlimit(v)
		if err != nil {
			return err
		}
		replaced := false
		for i := range spec.Ulimits {
			if spec.Ulimits[i].Name == u.Name {
				spec.Ulimits[i] = ulimit{Name: u.Name, Soft: u.Soft, Hard: u.Hard}
				replaced = true
			}
		}
		if !replaced {
			spec.Ulimits = append(spec.Ulimits, ulimit{Name: u.Name, Soft: u.Soft, Hard: u.Hard})
		}
	case "cap-add", "cap-drop", "security-opt":
		if v == "" {
			return fmt.Errorf("must not be empty")
		}
		switch flag {
		case "cap-add":
			spec.CapAdd = append(spec.CapAdd, v)
		case "cap-drop":
			spec.CapDrop = append(spec.CapDrop, v)
		default:
			spec.SecurityOpt = append(spec.SecurityOpt, v)
		}
	case "add-host":
		if h, ip, ok := strings.Cut(v, ":"); !ok || h == "" || ip == "" {
			return fmt.Errorf("must be host:ip")
		}
		spec.ExtraHosts = append(spec.ExtraHosts, v)
	case "sysctl":
		k, val, ok := strings.Cut(v, "=")
		if !ok || k == "" {
			return fmt.Errorf("must be key=value")
		}
		if spec.Sysctls == nil {
			spec.Sysctls = map[string]string{}
		}
		spec.Sysctls[k] = val
	case "shm-size":
		n, err := units.RAMInBytes(v)
		if err != nil || n <= 0 {
			return fmt.Errorf("must be a positive size such as 64m")
		}
		spec.ShmSize = n
	case "tmpfs":
		path, opts, _ := strings.Cut(v, ":")
		if !strings.HasPrefix(path, "/") {
			return fmt.Errorf("must be an absolute path, optionally followed by :options")
		}
		if spec.Tmpfs == nil {
			spec.Tmpfs = map[string]string{}
		}
		spec.Tmpfs[path] = opts
	case "read-only":
		if v == "" {
			spec.ReadOnly = true
			return nil
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("must be true or false")
		}
		spec.ReadOnly = b
	case "user":
		if v == "" {
			return fmt.Errorf("must not be empty")
		}
		spec.User = v
	case "pids-limit":
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return fmt.Errorf("must be a positive integer")
		}
		spec.PidsLimit = n
	case "log-opt":
		k, val, ok := strings.Cut(v, "=")
		if !ok || k == "" {
			return fmt.Errorf("must be key=value")
		}
		if spec.LogOpts == nil {
			spec.LogOpts = map[string]string{}
		}
		spec.LogOpts[k] = val
	}
	return nil
}

func sortedFlags() []string {
	out := make([]string, 0, len(ExtraArgFlags))
	for f := range ExtraArgFlags {
		out = append(out, f)
	}
	sort.Strings(out)
	return out
}
