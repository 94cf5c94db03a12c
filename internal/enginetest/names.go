package enginetest

import (
	"crypto/rand"
	"encoding/hex"
	"regexp"
	"strings"
)

// Suffix is 8 random hex digits: enough that tests running at the same
// time on one engine do not pick the same name.
func Suffix() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// maxNamePart bounds the readable part of a unique name; the suffix does
// the separating, the rest is for a person looking at `docker ps`.
const maxNamePart = 30

var notNameChar = regexp.MustCompile(`[^a-z0-9]+`)

// UniqueName is "t-<what>-<suffix>": what (a test's name, say) lowercased,
// runs of other characters than letters and digits made one "-", cut to
// 30 characters. It is valid as an invoker name, a container name part and
// an image tag.
func UniqueName(what string) string {
	part := strings.Trim(notNameChar.ReplaceAllString(strings.ToLower(what), "-"), "-")
	if len(part) > maxNamePart {
		part = strings.TrimRight(part[:maxNamePart], "-")
	}
	if part == "" {
		return "t-" + Suffix()
	}
	return "t-" + part + "-" + Suffix()
}
