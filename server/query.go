package server

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

const (
	defaultListLimit = 30
	maxListLimit     = 200
)

func queryError(param, msg string) error {
	return errorf(http.StatusBadRequest, "The query parameter '%s' was malformed:\n%s", param, msg)
}

// parsePaging reads limit and skip as OpenWhisk does for collection (the
// word its messages use, "actions" or "activations"): limit 0 means 200.
func parsePaging(q url.Values, collection string) (limit, skip int, err error) {
	limit = defaultListLimit
	if v, ok := q["limit"]; ok && len(v) > 0 {
		n, err := strconv.Atoi(v[0])
		switch {
		case err != nil:
			return 0, 0, queryError("limit", "The value '"+v[0]+"' is not an integer for "+collection+".")
		case n < 0 || n > maxListLimit:
			return 0, 0, queryError("limit", "The value '"+v[0]+"' is not in the range of 0 to 200 for "+collection+".")
		case n == 0:
			limit = maxListLimit
		default:
			limit = n
		}
	}
	if v, ok := q["skip"]; ok && len(v) > 0 {
		n, err := strconv.Atoi(v[0])
		switch {
		case err != nil:
			return 0, 0, queryError("skip", "The value '"+v[0]+"' is not an integer for "+collection+".")
		case n < 0:
			return 0, 0, queryError("skip", "The value '"+v[0]+"' is not greater than or equal to 0 for "+collection+".")
		}
		skip = n
	}
	return limit, skip, nil
}

// parseBool reads an OpenWhisk boolean query parameter (default false).
func parseBool(q url.Values, name string) (bool, error) {
	v := q.Get(name)
	switch strings.ToLower(v) {
	case "", "false", "no", "off", "0":
		return false, nil
	case "true", "yes", "on", "1":
		return true, nil
	}
	return false, queryError(name, "'"+v+"' is not a valid boolean: must be true, yes, on, 1, false, no, off or 0.")
}
