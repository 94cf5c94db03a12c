package factory

import (
	"strconv"
	"strings"

	"github.com/stemcell-io/stemcell/config"
)

// DefaultNamePrefix is the container name prefix when the invoker name has
// no usable character; it is OpenWhisk's.
const DefaultNamePrefix = "wsk"

// ContainerNamePrefix turns the invoker's name into the prefix of every
// container it creates. Only characters Docker accepts in names survive
// (ASCII letters, digits, '_', '.', '-', not leading), so cleanup can filter
// on "<prefix>_". A name with nothing usable gives "wsk".
func ContainerNamePrefix(invokerName string) string {
	p := keep(invokerName, func(r rune) bool {
		return isASCIIAlnum(r) || r == '_' || r == '.' || r == '-'
	})
	// Docker wants a name to start with a letter or digit.
	p = strings.TrimLeft(p, "_.-")
	if p == "" {
		return DefaultNamePrefix
	}
	return p
}

// ContainerName is "<prefix>_<n>_<a>_<b>", e.g. invoker0_12_prewarm_jsgoja
// or invoker0_13_guest_hello. a and b keep only letters, digits and '_' so
// that a namespace or kind such as "js:goja" cannot break the name. The
// counter n makes names unique within one invoker's life.
func ContainerName(prefix string, n uint64, a, b string) string {
	var sb strings.Builder
	sb.Grow(len(prefix) + 22 + len(a) + len(b))
	sb.WriteString(prefix)
	sb.WriteByte('_')
	sb.WriteString(strconv.FormatUint(n, 10))
	sb.WriteByte('_')
	sb.WriteString(suffixPart(a))
	sb.WriteByte('_')
	sb.WriteString(suffixPart(b))
	return sb.String()
}

func suffixPart(s string) string {
	return keep(s, func(r rune) bool { return isASCIIAlnum(r) || r == '_' })
}

// keep returns s with only the runes ok accepts.
func keep(s string, ok func(rune) bool) string {
	return strings.Map(func(r rune) rune {
		if ok(r) {
			return r
		}
		return -1
	}, s)
}

// isASCIIAlnum accepts ASCII letters and digits only: Docker rejects other
// letters in container names.
func isASCIIAlnum(r rune) bool {
	return (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')
}

// ResolveRegistryConfig picks the registry an image is pulled from: blackbox
// (user-provided) images come from the user-images registry, runtime images
// from the runtimes registry.
func ResolveRegistryConfig(userProvided bool, runtimes, userImages config.RegistryConfig) config.RegistryConfig {
	if userProvided {
		return userImages
	}
	return runtimes
}

// ImageRef is the engine's reference for img: [registry/][prefix/]name[:tag].
// The registry URL may carry a scheme or a trailing slash (operators copy
// them from docker login lines); image references take neither.
func ImageRef(reg config.RegistryConfig, img config.ImageName) string {
	host := strings.TrimSpace(reg.URL)
	if i := strings.Index(host, "://"); i >= 0 {
		host = host[i+3:]
	}
	host = strings.TrimRight(host, "/")
	var sb strings.Builder
	if host != "" {
		sb.WriteString(host)
		sb.WriteByte('/')
	}
	if p := strings.Trim(img.Prefix, "/"); p != "" {
		sb.WriteString(p)
		sb.WriteByte('/')
	}
	sb.WriteString(img.Name)
	if img.Tag != "" {
		sb.WriteByte(':')
		sb.WriteString(img.Tag)
	}
	return sb.String()
}
