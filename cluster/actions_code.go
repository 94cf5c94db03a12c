package cluster

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unsafe"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// CodePartSize is the size of each part an action's code is cut into. etcd
// refuses requests over --max-request-bytes (1.5 MiB by default), and a
// transaction counts as one request, so each part is written by a Put of
// its own. It is a constant, not an option: two processes writing the same
// digest at once must write the same parts.
const CodePartSize = 1 << 20

// MaxCodeParts bounds the parts of one code, hence its size (MaxCodeSize):
// the transaction that marks a code complete compares every part, and etcd
// allows 128 operations per transaction by default (--max-txn-ops).
const MaxCodeParts = 120

// MaxCodeSize is the largest code an action may have in cluster mode.
const MaxCodeSize = MaxCodeParts * CodePartSize

// errCodeMissing is returned when a part of a code is gone: the code was
// garbage-collected because no action refers to it any more (the action
// was overwritten or deleted since its document was read).
var errCodeMissing = errors.New("code parts missing")

// codeRef is how a document names its code.
type codeRef struct {
	Digest string `json:"digest"` // sha256 of the code, hex
	Size   int    `json:"size"`   // bytes
	Parts  int    `json:"parts"`
}

// codeMeta is the value of code/<digest>/meta, written once every part is
// in: its existence says the code is complete.
type codeMeta struct {
	Size  int `json:"size"`
	Parts int `json:"parts"`
}

func refOf(code string) codeRef {
	sum := sha256.Sum256(unsafe.Slice(unsafe.StringData(code), len(code)))
	return codeRef{
		Digest: hex.EncodeToString(sum[:]),
		Size:   len(code),
		Parts:  (len(code) + CodePartSize - 1) / CodePartSize,
	}
}

func (a *Actions) codePrefix(digest string) string { return a.root + "code/" + digest + "/" }
func (a *Actions) codeMetaKey(digest string) string {
	return a.codePrefix(digest) + "meta"
}
func (a *Actions) codePartKey(digest string, n int) string {
	return a.codePrefix(digest) + strconv.Itoa(n)
}
func (a *Actions) refsPrefix(digest string) string { return a.root + "coderefs/" + digest + "/" }
func (a *Actions) refKey(digest, ns, path string) string {
	return a.refsPrefix(digest) + ns + "/" + path
}

// ensureCode makes sure every part of code and its meta key are in etcd:
// it writes nothing when the meta key exists (another action has the same
// code), else every part, then the meta key in a transaction that checks
// the parts are all there, so a garbage collection that ran meanwhile
// makes it write them again instead of marking a partial code complete.
func (a *Actions) ensureCode(ref codeRef, code string) error {
	meta := a.codeMetaKey(ref.Digest)
	for attempt := 0; attempt < maxAttempts; attempt++ {
		ctx, cancel := a.callCtx()
		resp, err := a.cli.Get(ctx, meta, clientv3.WithCountOnly())
		cancel()
		if err != nil {
			return a.etcdErr("reading "+meta, err)
		}
		if resp.Count > 0 {
			return nil
		}
		if err := a.writeParts(ref, code); err != nil {
			return err
		}
		cmps := make([]clientv3.Cmp, 0, ref.Parts)
		for n := range ref.Parts {
			cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(a.codePartKey(ref.Digest, n)), ">", 0))
		}
		val, _ := json.Marshal(codeMeta{Size: ref.Size, Parts: ref.Parts})
		ctx, cancel = a.callCtx()
		tr, err := a.cli.Txn(ctx).If(cmps...).Then(clientv3.OpPut(meta, string(val))).Commit()
		cancel()
		if err != nil {
			return a.etcdErr("writing "+meta, err)
		}
		if tr.Succeeded {
			return nil
		}
		a.log.Info().Str("digest", ref.Digest).Msg("code parts collected while being written: writing them again")
	}
	return fmt.Errorf("cluster: code %s: parts collected %d times while being written", ref.Digest, maxAttempts)
}

// writeParts writes code in CodePartSize parts, one Put each.
func (a *Actions) writeParts(ref codeRef, code string) error {
	for n := range ref.Parts {
		part := code[n*CodePartSize : min((n+1)*CodePartSize, len(code))]
		key := a.codePartKey(ref.Digest, n)
		ctx, cancel := a.callCtx()
		_, err := a.cli.Put(ctx, key, part)
		cancel()
		if err != nil {
			return a.etcdErr("writing "+key, err)
		}
	}
	return nil
}

// code returns the code ref names: from the cache, else read from etcd
// (once for concurrent callers) and cached.
func (a *Actions) code(ref codeRef) (string, error) {
	if c, ok := a.cache.get(ref.Digest); ok {
		return c, nil
	}
	v, err, _ := a.loads.Do(ref.Digest, func() (any, error) {
		if c, ok := a.cache.get(ref.Digest); ok {
			return c, nil
		}
		c, err := a.readCode(ref)
		if err != nil {
			return "", err
		}
		a.cache.add(ref.Digest, c)
		return c, nil
	})
	if err != nil {
		return "", err
	}
	return v.(string), nil
}

// readCode reads every part of ref's code and checks the whole against
// the digest: a part written by a faulty process must not run.
func (a *Actions) readCode(ref codeRef) (string, error) {
	buf := make([]byte, 0, ref.Size)
	for n := range ref.Parts {
		key := a.codePartKey(ref.Digest, n)
		ctx, cancel := a.callCtx()
		// Linearizable: a serializable read on a lagging member could miss
		// a part written a moment ago by another process.
		resp, err := a.cli.Get(ctx, key)
		cancel()
		if err != nil {
			return "", a.etcdErr("reading "+key, err)
		}
		if len(resp.Kvs) == 0 {
			return "", fmt.Errorf("cluster: %s: %w", key, errCodeMissing)
		}
		buf = append(buf, resp.Kvs[0].Value...)
	}
	if len(buf) != ref.Size {
		return "", fmt.Errorf("cluster: code %s: %d bytes read, %d expected", ref.Digest, len(buf), ref.Size)
	}
	// buf is never written again: the string shares it instead of copying
	// tens of megabytes.
	code := unsafe.String(unsafe.SliceData(buf), len(buf))
	if got := refOf(code); got.Digest != ref.Digest {
		return "", fmt.Errorf("cluster: code %s: parts hash to %s", ref.Digest, got.Digest)
	}
	return code, nil
}

// collect deletes digest's code when no action refers to it any more. The
// guard (no key under its refs prefix) is checked in the same transaction
// as the delete, so a document that starts referring to the code wins or
// loses as a whole: it either sees the code complete or fails its own
// compare on the meta key and writes the parts again.
func (a *Actions) collect(digest string) {
	if digest == "" {
		return
	}
	ctx, cancel := a.callCtx()
	defer cancel()
	tr, err := a.cli.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(a.refsPrefix(digest)), "=", 0).WithPrefix()).
		Then(clientv3.OpDelete(a.codePrefix(digest), clientv3.WithPrefix())).
		Commit()
	if err != nil {
		a.log.Warn().Err(err).Str("digest", digest).Msg("collecting unreferenced code failed; its parts stay in etcd")
		return
	}
	if tr.Succeeded && tr.Responses[0].GetResponseDeleteRange().Deleted > 0 {
		a.collected.Add(1)
		a.log.Debug().Str("digest", digest).Msg("unreferenced code collected")
	}
}

// SweepCode collects every code no action refers to: parts a writer left
// behind when it died between writing them and its document. Each digest
// goes through the guarded collection, so a sweep is safe at any time; a
// put writing that code at the same moment writes its parts again. It
// returns the number of codes deleted.
func (a *Actions) SweepCode(ctx context.Context) (int, error) {
	prefix := a.root + "code/"
	cctx, cancel := context.WithTimeout(ctx, a.opts.CallTimeout)
	resp, err := a.cli.Get(cctx, prefix, clientv3.WithPrefix(), clientv3.WithKeysOnly())
	cancel()
	if err != nil {
		return 0, a.etcdErr("listing "+prefix, err)
	}
	seen := map[string]bool{}
	before := a.collected.Load()
	for _, kv := range resp.Kvs {
		digest, _, _ := strings.Cut(strings.TrimPrefix(string(kv.Key), prefix), "/")
		if seen[digest] || ctx.Err() != nil {
			continue
		}
		seen[digest] = true
		a.collect(digest)
	}
	return int(a.collected.Load() - before), ctx.Err()
}

// callCtx bounds one etcd call; Close cancels it.
func (a *Actions) callCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(a.ctx, a.opts.CallTimeout)
}

// etcdErr names etcd and its endpoints in an error of a call that did not
// get through, so a client sees why a write failed.
func (a *Actions) etcdErr(what string, err error) error {
	return fmt.Errorf("cluster: etcd %v: %s: %w", a.cli.Endpoints(), what, err)
}
