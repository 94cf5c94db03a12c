package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unsafe"
)

// Decoding of client JSON: one value per body, no repeated keys, errors
// that name the place, and no copies of a large body.

// bodyString is a JSON string that, when its literal needs no unescaping
// (printable ASCII without a backslash, which base64 archives always are),
// shares the request body's memory instead of being copied out of it: a
// 45 MB action's code then costs nothing beyond its body. The server never
// writes to a body after reading it.
type bodyString string

func (s *bodyString) UnmarshalJSON(data []byte) error {
	if len(data) < 2 || data[0] != '"' || data[len(data)-1] != '"' || !printableASCII(data[1:len(data)-1]) {
		var v string
		if err := json.Unmarshal(data, &v); err != nil {
			return err
		}
		*s = bodyString(v)
		return nil
	}
	lit := data[1 : len(data)-1]
	*s = bodyString(unsafe.String(unsafe.SliceData(lit), len(lit)))
	return nil
}

func printableASCII(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c > 0x7e || c == '\\' || c == '"' {
			return false
		}
	}
	return true
}

// malformed is the 400 OpenWhisk gives for a body it cannot read.
func malformed(detail string) error {
	return errorf(http.StatusBadRequest, "%s%s", msgMalformed, detail)
}

// decodeJSON reads exactly one JSON value from data into v; what follows it
// may only be whitespace. Errors are 400s that name the problem.
// json.Unmarshal reads data in place (a json.Decoder would first copy it
// into its own buffer, which for a 45 MB action PUT is 45 MB more).
func decodeJSON(data []byte, v any) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return malformed("the body is empty: expected a JSON object")
	}
	if err := json.Unmarshal(data, v); err != nil {
		return malformed(describeJSONError(data, err))
	}
	return nil
}

// decodeUniqueJSON is decodeJSON for documents: no object may repeat a
// key, since encoding/json would silently keep the last value (a second
// "exec" once turned a nodejs action into a blackbox one).
func decodeUniqueJSON(data []byte, v any) error {
	if err := decodeJSON(data, v); err != nil {
		return err
	}
	if path, at, dup := duplicateKey(data); dup {
		return malformed(fmt.Sprintf(msgDuplicateKey, path, at))
	}
	return nil
}

// describeJSONError turns a decoding error into a message with its place.
func describeJSONError(data []byte, err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se) && strings.HasSuffix(se.Error(), "after top-level value"):
		return "unexpected data after the JSON value at offset " + strconv.FormatInt(se.Offset-1, 10)
	case errors.As(err, &se) && se.Error() == "unexpected end of JSON input":
		return fmt.Sprintf("the JSON ends early (after %d bytes)", len(data))
	case errors.As(err, &se):
		return fmt.Sprintf("invalid JSON at offset %d: %v", se.Offset, se)
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			field = "the body"
		}
		return fmt.Sprintf("%s: expected %s, got JSON %s at offset %d", field, te.Type, te.Value, te.Offset)
	}
	return err.Error()
}
