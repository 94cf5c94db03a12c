package server

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
)

// Identity is an authenticated caller: the namespace it owns and its
// credential, which actions receive as __OW_API_KEY unless they opt out.
type Identity struct {
	Namespace string
	UUID      string
	Key       string
}

// Subject is what activation records name as their subject.
func (id *Identity) Subject() string { return id.Namespace }

// Keys holds the uuid:key pairs and the namespace each is bound to.
type Keys struct {
	byUUID map[string]Identity
}

// keyLength is OpenWhisk's key length, which generated keys have.
const keyLength = 64

// minKeyLength is the shortest key a keys file may hold: 32 characters of
// the generated alphabet carry some 160 bits, beyond guessing.
const minKeyLength = 32

// ParseKeys reads a keys file: one "uuid:key namespace" per line; blank
// lines and lines starting with '#' are ignored.
func ParseKeys(data []byte, source string) (*Keys, error) {
	k := &Keys{byUUID: map[string]Identity{}}
	sc := bufio.NewScanner(bytes.NewReader(data))
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		fields := strings.Fields(text)
		if len(fields) != 2 {
			return nil, fmt.Errorf("keys file %s line %d: %q is invalid: must be \"uuid:key namespace\"", source, line, text)
		}
		uuid, key, ok := strings.Cut(fields[0], ":")
		if !ok || uuid == "" || key == "" {
			return nil, fmt.Errorf("keys file %s line %d: credential %q is invalid: must be uuid:key", source, line, fields[0])
		}
		if len(key) < minKeyLength {
			return nil, fmt.Errorf("keys file %s line %d: the key of uuid %q has %d characters: must have at least %d (generated keys have %d)", source, line, uuid, len(key), minKeyLength, keyLength)
		}
		if !validName(fields[1]) {
			return nil, fmt.Errorf("keys file %s line %d: namespace %q is invalid: must be a valid entity name", source, line, fields[1])
		}
		if _, dup := k.byUUID[uuid]; dup {
			return nil, fmt.Errorf("keys file %s line %d: uuid %q is invalid: listed twice", source, line, uuid)
		}
		k.byUUID[uuid] = Identity{Namespace: fields[1], UUID: uuid, Key: key}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("keys file %s: %w", source, err)
	}
	if len(k.byUUID) == 0 {
		return nil, fmt.Errorf("keys file %s: no credential: must hold at least one \"uuid:key namespace\" line", source)
	}
	return k, nil
}

// LoadOrCreateKeys reads path; when it does not exist it writes a new file
// (mode 0600) with one generated key for namespace "guest", and created is
// true.
func LoadOrCreateKeys(path string) (keys *Keys, created bool, err error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		id, err := NewIdentity("guest")
		if err != nil {
			return nil, false, err
		}
		text := fmt.Sprintf("# Stemcell API keys: uuid:key namespace (one per line)\n%s:%s %s\n", id.UUID, id.Key, id.Namespace)
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, false, fmt.Errorf("keys file %s: %w", path, err)
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, false, fmt.Errorf("keys file %s: %w", path, err)
		}
		if _, err := f.WriteString(text); err != nil {
			f.Close()
			return nil, false, fmt.Errorf("keys file %s: %w", path, err)
		}
		if err := f.Close(); err != nil {
			return nil, false, fmt.Errorf("keys file %s: %w", path, err)
		}
		k, err := ParseKeys([]byte(text), path)
		return k, true, err
	}
	if err != nil {
		return nil, false, fmt.Errorf("keys file %s: %w", path, err)
	}
	if err := checkKeysFileMode(path); err != nil {
		return nil, false, err
	}
	k, err := ParseKeys(data, path)
	return k, false, err
}

// checkKeysFileMode refuses a keys file that users other than its owner may
// read or write, as ssh refuses such a private key: the keys are the
// passwords of every namespace.
func checkKeysFileMode(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("keys file %s: %w", path, err)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("keys file %s has mode %04o: it must not be readable or writable by group or others, since it holds the API keys: run chmod 600 %s", path, perm, path)
	}
	return nil
}

// NewIdentity generates a random UUID and a 64-character key.
func NewIdentity(namespace string) (Identity, error) {
	var u [16]byte
	if _, err := rand.Read(u[:]); err != nil {
		return Identity{}, fmt.Errorf("generate key: %w", err)
	}
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	uuid := fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
	return Identity{Namespace: namespace, UUID: uuid, Key: (rand.Text() + rand.Text() + rand.Text())[:keyLength]}, nil
}

// Namespaces lists the namespaces that have keys.
func (k *Keys) Namespaces() []string {
	seen := map[string]bool{}
	var out []string
	for _, id := range k.byUUID {
		if !seen[id.Namespace] {
			seen[id.Namespace] = true
			out = append(out, id.Namespace)
		}
	}
	return out
}

// dummyKey is compared against when the uuid is unknown, so that an unknown
// uuid costs as long as a wrong key.
var dummyKey = strings.Repeat("x", keyLength)

// authenticate checks the request's basic credentials.
func (k *Keys) authenticate(r *http.Request) (*Identity, error) {
	h := r.Header.Get("Authorization")
	scheme, enc, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Basic") {
		return nil, errorf(http.StatusUnauthorized, "%s", msgNoAuth)
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(enc))
	if err != nil {
		return nil, errorf(http.StatusUnauthorized, "%s", msgNoAuth)
	}
	uuid, key, ok := strings.Cut(string(raw), ":")
	if !ok {
		return nil, errorf(http.StatusUnauthorized, "%s", msgNoAuth)
	}
	id, known := k.byUUID[uuid]
	want := id.Key
	if !known {
		want = dummyKey
	}
	if subtle.ConstantTimeCompare([]byte(key), []byte(want)) != 1 || !known {
		return nil, errorf(http.StatusUnauthorized, "%s", msgBadAuth)
	}
	return &id, nil
}
