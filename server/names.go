package server

import (
	"net/http"
	"net/url"
	"strings"
)

const maxNameLength = 256

// isWordByte is OpenWhisk's \w for ASCII.
func isWordByte(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}

// validName applies OpenWhisk's entity-name rule: a word character, then
// word characters, '@', '.', '&', '-' or spaces, not ending in a space.
func validName(s string) bool {
	if s == "" || len(s) > maxNameLength || !isWordByte(s[0]) || s[len(s)-1] == ' ' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !isWordByte(c) && c != '@' && c != '.' && c != '&' && c != '-' && c != ' ' {
			return false
		}
	}
	return true
}

// checkName validates one entity-name segment.
func checkName(s string) error {
	if len(s) > maxNameLength {
		return errorf(http.StatusBadRequest, "Name segement longer than allowed: %d > %d.", len(s), maxNameLength)
	}
	if !validName(s) {
		return errorf(http.StatusBadRequest, "%s", msgBadEntityName)
	}
	return nil
}

// checkNamespace validates a namespace segment ("_" is handled before).
func checkNamespace(s string) error {
	if len(s) > maxNameLength {
		return errorf(http.StatusBadRequest, "Namespace longer than allowed: %d > %d.", len(s), maxNameLength)
	}
	if !validName(s) {
		return errorf(http.StatusBadRequest, "%s", msgBadNamespace)
	}
	return nil
}

// checkActivationID validates a 32-hex-digit activation id.
func checkActivationID(id string) error {
	if len(id) != 32 {
		return errorf(http.StatusBadRequest, "Activation id length is %d but must be 32.", len(id))
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= '0' && c <= '9') && !(c >= 'a' && c <= 'f') {
			return errorf(http.StatusBadRequest, "%s", msgBadActivation)
		}
	}
	return nil
}

// actionPath is an action's place below its namespace: pkg may be empty.
type actionPath struct {
	pkg, name string
}

func (p actionPath) String() string {
	if p.pkg == "" {
		return p.name
	}
	return p.pkg + "/" + p.name
}

// parseActionPath validates "name" or "pkg/name".
func parseActionPath(segs []string) (actionPath, error) {
	switch len(segs) {
	case 1:
		return actionPath{name: segs[0]}, checkName(segs[0])
	case 2:
		if err := checkName(segs[0]); err != nil {
			return actionPath{}, err
		}
		return actionPath{pkg: segs[0], name: segs[1]}, checkName(segs[1])
	}
	return actionPath{}, errorf(http.StatusNotFound, "%s", msgNoRoute)
}

// splitPath splits an escaped URL path into decoded segments, keeping a
// trailing empty segment for a trailing slash.
func splitPath(escaped string) ([]string, error) {
	raw := strings.Split(strings.TrimPrefix(escaped, "/"), "/")
	out := make([]string, len(raw))
	for i, s := range raw {
		d, err := url.PathUnescape(s)
		if err != nil {
			return nil, errorf(http.StatusBadRequest, "%s", msgBadEntityName)
		}
		out[i] = d
	}
	return out, nil
}
