package config

import (
	"fmt"
	"strings"
)

// keyDoc is the meaning of one key for the README's reference; openWhisk
// marks keys that OpenWhisk has too, whose CONFIG_whisk_* name is accepted.
type keyDoc struct {
	meaning   string
	openWhisk bool
}

// keyDocs documents every key of Config; a test fails when one is missing.
var keyDocs = map[string]keyDoc{
	"invoker.name":     {"Name of this invoker. It prefixes and labels every container the invoker creates, so startup and shutdown cleanup remove only its own containers.", false},
	"invoker.api-host": {"Passed to action containers as `__OW_API_HOST`. Empty: `http://<gateway of the action network>:<the daemon's port>`, where the daemon also answers when it listens on loopback (see \"OpenWhisk's runtime images\").", false},

	"container-pool.user-memory":                                      {"Memory that all action containers together may hold: busy, idle, prewarmed and starting ones.", true},
	"container-pool.concurrent-peek-factor":                           {"OpenWhisk v1 sizes its Kafka peek with it; Stemcell has no Kafka and no use for it: accepted and validated so OpenWhisk settings carry over, it admits and refuses nothing (see limits.actions.invokes). Must be > 0 and <= 1.", true},
	"container-pool.akka-client":                                      {"HTTP client to action containers: `true` a pooled keep-alive client (required for intra-container concurrency), `false` one connection per request, each opened in the background while the previous request runs. `pekko-client` is accepted as another name.", true},
	"container-pool.prewarm-expiration-check-init-delay":              {"Delay before the first stem-cell expiry check. Must be >= 0.", true},
	"container-pool.prewarm-expiration-check-interval":                {"Period of the stem-cell expiry check (and reactive sizing). Must be >= 1s.", true},
	"container-pool.prewarm-expiration-check-interval-variance":       {"A random extra in [0, variance) added to each interval, drawn anew each tick, so invokers drift apart. Unset (null) means none. Must be >= 0.", true},
	"container-pool.prewarm-expiration-limit":                         {"At most this many expired stem cells are removed per check; the rest wait for the next. Must be > 0 (0 would never shrink the stock).", true},
	"container-pool.prewarm-max-retry-limit":                          {"After this many consecutive failed stem-cell creations, backfill stops until the next expiry check. Must be >= 0.", true},
	"container-pool.prewarm-promotion":                                {"Lets an activation take a stem cell of its kind with more memory than it asked for (the smallest that fits).", true},
	"container-pool.memory-sync-interval":                             {"Period of the pool's memory snapshot (free, busy, prewarmed, starting, buffered) to its subscribers. Must be > 0.", true},
	"container-pool.batch-deletion-size":                              {"How many containers are removed per round when the invoker drains. Must be > 0.", true},
	"container-pool.user-cpus":                                        {"CPUs for all actions; each container gets `--cpus` in proportion to its memory (at least 0.01). Unset: no CPU limit, only CPU shares. Must be > 0.", true},
	"container-pool.prewarm-container-creation-config.max-concurrent": {"At most this many stem-cell creations in flight. Must be > 0.", true},
	"container-pool.prewarm-container-creation-config.creation-delay": {"At least this long between creation rounds. Must be >= 1s.", true},
	"container-pool.buffer-size":                                      {"How many activations may wait for capacity in all; an invoke that would go past it is answered 429 and leaves no record (OpenWhisk's buffer is unbounded). 0 means the default, 10000. Must be >= 0.", false},
	"container-pool.queue":                                            {"Order in which waiting activations are placed: `fair` (per-action queues in arrival order; a job that can start now goes ahead of another action's job that waits for memory without taking what that job was promised; namespaces share the promised memory) or `fifo` (OpenWhisk v1's single strict FIFO: only its head is tried).", false},
	"container-pool.keep-alive-policy":                                {"When an idle container is paused and removed, and whether one is loaded ahead of an action's next call: `openwhisk` (pause after `container-proxy.timeouts.pause-grace`, remove `idle-container` after the pause: OpenWhisk's fixed TTL), `greedy-dual` (pause after the grace, keep until evicted for memory; see `greedy-dual.keep-alive`) or `hybrid-histogram` (per action, windows from a histogram of its idle times: remove at once and load a container again shortly before the next call is due, or keep it as long as the histogram says; a fixed keep-alive while it knows too little). With `eviction-policy: greedy-dual`, `hybrid-histogram` is the hybrid-greedy-dual pairing. See policy/README.md.", false},
	"container-pool.eviction-policy":                                  {"Which idle containers go first when memory is short: `openwhisk` (least recently used) or `greedy-dual` (lowest `clock + frequency × cold-start cost / memory` first: what is frequent, costly to start and small stays). Stem cells go after every idle container either way.", false},
	"container-pool.greedy-dual.default-cost":                         {"Cold-start cost (cold minus warm duration) assumed for an action until a cold and a warm run of it were measured. Must be > 0.", false},
	"container-pool.greedy-dual.clone-priority":                       {"How the greedy-dual order ranks an action's idle containers other than its most recently used one: `full` (FaaSCache: each with its action's priority, so a frequent action's idle burst containers outrank a rarer action's only one) or `recency` (by the action's last use alone, as LRU would; the most recently used one keeps the full priority).", false},
	"container-pool.greedy-dual.keep-alive":                           {"Under `keep-alive-policy: greedy-dual`, an idle container is removed this long after its last job; 0 keeps it until evicted (FaaSCache). Must be >= 0.", false},
	"container-pool.hybrid-histogram.bin-width":                       {"Width of a bin of the per-action idle-time histogram. Must be > 0.", false},
	"container-pool.hybrid-histogram.bins":                            {"Number of bins; bins × bin-width is the histogram's range (idle times beyond it count as out of bounds). Must be >= 1.", false},
	"container-pool.hybrid-histogram.head-percentile":                 {"The idle-time percentile whose bin's lower edge starts the pre-warm window. Must be in (0, 100).", false},
	"container-pool.hybrid-histogram.tail-percentile":                 {"The idle-time percentile whose bin's upper edge ends the keep-alive window. Must be in (head-percentile, 100].", false},
	"container-pool.hybrid-histogram.margin":                          {"The pre-warm window is shortened and the keep-alive end lengthened by this share. Must be in [0, 1).", false},
	"container-pool.hybrid-histogram.cv-threshold":                    {"A histogram whose bin counts have a coefficient of variation below this says little: the action gets `fallback-keep-alive` instead. Must be >= 0.", false},
	"container-pool.hybrid-histogram.min-observations":                {"With fewer idle times recorded, the action gets `fallback-keep-alive`. Must be >= 1.", false},
	"container-pool.hybrid-histogram.max-out-of-bounds":               {"When at least this share of an action's idle times fell beyond the range, it gets `out-of-bounds-keep-alive` (the paper fits ARIMA there; Stemcell does not). Must be in (0, 1].", false},
	"container-pool.hybrid-histogram.fallback-keep-alive":             {"Fixed keep-alive from the last job for an action with too few idle times or a histogram that says little. Must be > 0.", false},
	"container-pool.hybrid-histogram.out-of-bounds-keep-alive":        {"Fixed keep-alive from the last job for an action with too many idle times beyond the range. Must be > 0.", false},

	"container-proxy.timeouts.idle-container":          {"A paused container is destroyed after this long without work. Must be > 0.", true},
	"container-proxy.timeouts.pause-grace":             {"A container without work is paused after this long. Must be >= 0.", true},
	"container-proxy.action-health-check.enabled":      {"TCP-connect health pings to idle stem cells.", true},
	"container-proxy.action-health-check.check-period": {"Period of the pings. Must be > 0.", true},
	"container-proxy.action-health-check.max-fails":    {"Consecutive failed pings before the stem cell is destroyed and replaced. Must be > 0.", true},

	"container-factory.provider":                      {"Container factory: `docker` (the Docker Engine) or another registered provider (`fake` runs no container: for development clusters and load tests, see `container-factory.fake.*`).", false},
	"container-factory.fake.create":                   {"Provider `fake` only: how long creating a container takes (it creates none). Must be >= 0.", false},
	"container-factory.fake.init":                     {"Provider `fake` only: how long an /init takes. Must be >= 0.", false},
	"container-factory.fake.run":                      {"Provider `fake` only: how long a /run takes; the result is the activation's parameters. Must be >= 0.", false},
	"container-factory.fake.jitter":                   {"Provider `fake` only: up to this much more, drawn per operation, on create, init and run. Must be >= 0.", false},
	"container-factory.container-args.network":        {"Docker network of action containers, used as is. Empty: the hardening profile decides: `strict` an invoker-owned bridge network without inter-container traffic (`stemcell-actions`, one per host, shared by its invokers, created at startup when missing and never removed; the engine's default `bridge` instead when the engine already disables inter-container traffic on it), `openwhisk` the default `bridge`.", true},
	"container-factory.container-args.dns-servers":    {"DNS servers of action containers. Items must not be empty.", true},
	"container-factory.container-args.dns-search":     {"DNS search domains. Items must not be empty.", true},
	"container-factory.container-args.dns-options":    {"DNS options. Items must not be empty.", true},
	"container-factory.container-args.extra-env-vars": {"Environment of every action container: items `KEY=value` (split at the first `=`) or a bare `KEY` (empty value). An empty item or empty key is an error.", true},
	"container-factory.container-args.extra-args":     {"Extra `docker run` arguments: a map of flag to list of values, each emitted as `--flag value`.", true},
	"container-factory.runtimes-registry.url":         {"Registry prefix of runtime images.", true},
	"container-factory.runtimes-registry.user":        {"Registry user; required when a password is set.", false},
	"container-factory.runtimes-registry.password":    {"Registry password; printed as `******`.", false},
	"container-factory.user-images-registry.url":      {"Registry prefix of blackbox (user) images.", true},
	"container-factory.user-images-registry.user":     {"Registry user; required when a password is set.", false},
	"container-factory.user-images-registry.password": {"Registry password; printed as `******`.", false},

	"docker.host":                    {"Docker Engine address; empty: `DOCKER_HOST` or the default socket. The client always negotiates the API version.", false},
	"docker.parallel-runs":           {"At most this many container creations (create and start) at once, in the order the pool asked for them; one that pulls its image keeps its place without holding back the others meanwhile. 0 means unlimited. Must be >= 0.", true},
	"docker.pull-policy.runtimes":    {"When the images of the manifest's kinds are pulled: `missing` (when the engine does not have one; the first container of that image waits for the pull, which is logged with its progress), `always` (before every container) or `never` (an image must be on the host; a missing one is a developer error naming it). Stemcell's own image is built, never pulled.", false},
	"docker.pull-policy.user-images": {"The same for the images of blackbox actions; `always` by default, as OpenWhisk (a pinned tag whose pull fails falls back to the local image).", false},
	"docker.timeouts.run":            {"Timeout of creating and starting a container. Must be > 0 (like every timeout below).", true},
	"docker.timeouts.rm":             {"Timeout of removing a container.", true},
	"docker.timeouts.pull":           {"Timeout of pulling an image.", true},
	"docker.timeouts.ps":             {"Timeout of listing containers.", true},
	"docker.timeouts.inspect":        {"Timeout of inspecting a container.", true},
	"docker.timeouts.pause":          {"Timeout of pausing a container.", true},
	"docker.timeouts.unpause":        {"Timeout of resuming a container.", true},
	"docker.timeouts.version":        {"Timeout of asking the engine's version.", true},
	"docker.timeouts.create":         {"Deadline of a whole container creation, from the request on: the wait for a start slot (`docker.parallel-runs`), the pull, create and start, and the wait for the runtime to listen. Past it the creation is cancelled, a container the engine made anyway is removed, and only then is its memory given back. 0 means pull + run + inspect. Must be >= 0.", false},
	"docker.hardening.profile":       {"How action containers are confined: `strict` (no-new-privileges, all capabilities dropped but `cap-add`, an invoker-owned network without inter-container traffic; Stemcell's own runtime image gets no capability at all and runs as user 65534 on a read-only root filesystem with a tmpfs on /tmp) or `openwhisk` (OpenWhisk's settings exactly: NET_RAW and NET_ADMIN dropped, root, writable root filesystem, the default bridge). `extra-args` apply on top of either. See factory/docker/README.md, Hardening.", false},
	"docker.hardening.cap-add":       {"Under `strict`, the capabilities given back to containers of images other than Stemcell's own runtime image, after all were dropped: what a runtime running as root needs to manage its own files and processes. Names as in capabilities(7), with or without `CAP_`, or ALL.", false},

	"limits.memory.min":         {"Smallest action memory; also sizes maxContainers. Must be > 0 and min <= std <= max.", true},
	"limits.memory.max":         {"Largest action memory.", true},
	"limits.memory.std":         {"Action memory when none is given.", true},
	"limits.time.min":           {"Shortest action time limit. Must be > 0 and min <= std <= max.", true},
	"limits.time.max":           {"Longest action time limit.", true},
	"limits.time.std":           {"Action time limit when none is given.", true},
	"limits.log.min":            {"Smallest log limit. Must be >= 0 and min <= std <= max.", true},
	"limits.log.max":            {"Largest log limit.", true},
	"limits.log.std":            {"Log limit when none is given.", true},
	"limits.concurrency.min":    {"Smallest intra-container concurrency. Must be >= 1 and min <= std <= max.", true},
	"limits.concurrency.max":    {"Largest intra-container concurrency; concurrency is off unless it is > 1.", true},
	"limits.concurrency.std":    {"Concurrency when none is given.", true},
	"limits.payload.max":        {"Largest action result. Must be > 0.", true},
	"limits.payload.truncation": {"Size to which an oversized result is truncated. Must be > 0.", true},

	"limits.actions.invokes.concurrent": {"Per namespace, at most this many activations accepted and not finished (running or waiting in the buffer); another invoke is answered 429 `Too many concurrent requests in flight`. 0: no limit. Must be >= 0.", true},
	"limits.actions.invokes.per-minute": {"Per namespace, at most this many invokes in one wall-clock minute (refused ones count too, as in OpenWhisk); past it 429 `Too many requests in the last minute`. 0: no limit. Must be >= 0.", true},

	"runtimes-manifest.preset":     {"A runtimes manifest shipped with Stemcell: `stemcell` (the built-in runtime: kind `js:goja` and native executables) or `openwhisk` (OpenWhisk's kinds on its official images, pulled on first use, plus `js:goja`; see \"Runtimes\"). `file` or `inline` replaces it.", false},
	"runtimes-manifest.stem-cells": {"Replaces every stem cell of the manifest: items `KIND=COUNTxMEMORY` (e.g. `nodejs:default=2x256MB`, `python:3.11=1x256MB`), or the one item `none`. Empty: the manifest's own. Only these kinds' images are pulled at startup.", false},
	"runtimes-manifest.file":       {"Runtimes manifest JSON file; a relative path in the YAML file is relative to that file. Empty (and no inline): the embedded manifest.", false},
	"runtimes-manifest.inline":     {"Runtimes manifest JSON text, as OpenWhisk injects it in `RUNTIMES_MANIFEST` (also accepted). The highest source that sets file or inline wins; setting both in one source is an error.", false},

	"cluster.address":       {"Where fronts reach this invoker's API: `host:port` or an `http(s)://` URL. Empty: `server.listen`, which must then be an address other hosts reach (an invoker listening on `0.0.0.0` or `::` refuses to join without it).", false},
	"cluster.endpoints":     {"etcd's client URLs; empty (the default): the invoker stands alone and never contacts etcd. Set: it registers in the cluster under a lease and publishes its pool's memory (at most once per `container-pool.memory-sync-interval`, only when it changed); see \"Cluster mode\".", false},
	"cluster.name":          {"The cluster's name: its keys live under `/stemcell/v1/<name>/`.", false},
	"cluster.id":            {"This invoker's id in the cluster, unique there (a second invoker with a live id refuses to start); empty: `invoker.name`.", false},
	"cluster.lease-ttl":     {"How long the invoker stays in the fronts' views after it stops renewing its lease (crash, partition). Must be >= 2s.", false},
	"cluster.dial-timeout":  {"Timeout of connecting to etcd. Must be > 0.", false},
	"cluster.username":      {"etcd user; required when a password is set.", false},
	"cluster.password":      {"etcd password; printed as `******`.", false},
	"cluster.tls.ca-file":   {"CA certificate (PEM) that etcd's server certificate must chain to; empty: the system's roots.", false},
	"cluster.tls.cert-file": {"Client certificate (PEM) for etcd's client-certificate authentication; with key-file.", false},
	"cluster.tls.key-file":  {"Its private key (PEM).", false},

	"server.listen":              {"host:port of the daemon's HTTP API (port 0 picks a free one). Flag `--listen`.", false},
	"server.data-dir":            {"Directory of the database and of the generated keys file. Flag `--data-dir`.", false},
	"server.keys-file":           {"API keys file, lines of `uuid:key namespace`; empty: `<data-dir>/keys`, created with one `guest` key (mode 0600) when missing. Flag `--keys-file`.", false},
	"server.blocking-wait":       {"How long a blocking invoke waits for its result before answering 202 with the activation id. Must be > 0.", false},
	"server.max-body-size":       {"Largest action PUT body (413 past it); invoke bodies are bounded by limits.payload.max.", false},
	"server.put-bytes-in-flight": {"Total size of the action PUT bodies processed at once (each costs about twice its size while it is decoded and stored). A PUT that does not fit waits in line, up to read-timeout from its start, then gets 503 with Retry-After. Must be >= max-body-size.", false},
	"server.read-header-timeout": {"How long a client may take to send a request's headers.", false},
	"server.read-timeout":        {"How long a client may take to send a whole request, headers and body, including a PUT's wait in line. Once the body is read, the answer may take longer (a blocking invoke waits up to blocking-wait).", false},
	"server.write-timeout":       {"How long sending one response may take, from its first byte.", false},
	"server.idle-timeout":        {"How long a keep-alive connection may stay idle before the daemon closes it.", false},
	"server.shutdown-deadline":   {"On SIGTERM or SIGINT, how long running activations may finish before they are answered with an internal error. Must be >= 0.", false},
	"server.pprof":               {"Serve Go's /debug/pprof/ endpoints.", false},
	"server.retention.max-age":   {"Activation records older than this are dropped (0 keeps any age).", false},
	"server.retention.max-count": {"At most this many activation records are kept (0 keeps any number).", false},
	"server.log-level":           {"trace, debug, info, warn or error.", false},
	"server.log-format":          {"auto (console on a terminal, else JSON), json or console.", false},
}

// flagFor names the dedicated flag of a key, if any.
func flagFor(key string) string {
	for f, k := range flagKeys {
		if k == key {
			return "--" + f
		}
	}
	return ""
}

// ReferenceMarkdown is the README's "Configuration reference" section,
// generated from the configuration tree, its defaults and keyDocs.
func ReferenceMarkdown() (string, error) {
	defaults, err := Default().toMap()
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString(referenceIntro)
	section := ""
	for _, k := range schema() {
		top := k.Path[:strings.IndexByte(k.Path, '.')]
		if top != section {
			section = top
			fmt.Fprintf(&b, "\n### `%s`\n\n| key | default | environment | meaning |\n|---|---|---|---|\n", section)
		}
		doc, ok := keyDocs[k.Path]
		if !ok {
			return "", fmt.Errorf("config: key %s has no documentation in keyDocs", k.Path)
		}
		env := "`" + EnvName(k.Path) + "`"
		if doc.openWhisk {
			env += "<br>`" + OpenWhiskEnvName(k.Path) + "`"
		}
		if f := flagFor(k.Path); f != "" {
			env += "<br>flag `" + f + "`"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", strings.TrimPrefix(k.Path, section+"."), defaultText(defaults, k.Path), env, doc.meaning)
	}
	b.WriteString(referenceManifest)
	return b.String(), nil
}

func defaultText(defaults map[string]any, path string) string {
	parent, _, v := lookup(defaults, path)
	if parent == nil {
		if strings.Contains(path, "prewarm-container-creation-config.") {
			return "unset (no throttle)"
		}
		return "unset"
	}
	switch x := v.(type) {
	case string:
		if x == "" {
			return `""`
		}
		return "`" + x + "`"
	case []any:
		if len(x) == 0 {
			return "`[]`"
		}
	case map[string]any:
		if len(x) == 0 {
			return "`{}`"
		}
	}
	return fmt.Sprintf("`%v`", v)
}

const referenceIntro = `## Configuration reference

<!-- Generated from config/ by ` + "`go generate ./config`" + `; do not edit by hand. -->

Sources, from lowest to highest precedence: the defaults below; one YAML file
(` + "`--config FILE`" + `); OpenWhisk's deploy variables (` + "`CONFIG_whisk_*`" + `,
` + "`RUNTIMES_MANIFEST`" + `); our variables (` + "`STEMCELL_*`" + `); ` + "`--set key=value`" + `
flags; the dedicated flags. ` + "`invoker config print`" + ` shows the result and
` + "`invoker config check`" + ` validates it (exit status 2 listing every problem).

- **File**: YAML with the kebab-case keys below, nested by section. An unknown
  key is an error naming it, so a typo never falls back to a default.
  ` + "`pekko-client`" + ` is accepted for ` + "`akka-client`" + `.
- **Environment**: ` + "`STEMCELL_`" + ` and the key in upper case, ` + "`__`" + ` between levels,
  ` + "`_`" + ` for ` + "`-`" + `. Such a variable that names no key is an error; variables
  with the prefix but without ` + "`__`" + ` are ignored. OpenWhisk's names
  (` + "`CONFIG_whisk_`" + ` and the camelCase path with ` + "`_`" + ` between levels) are read
  for the keys OpenWhisk has; other ` + "`CONFIG_whisk_*`" + ` variables are ignored.
  Our names win over OpenWhisk's.
- **Lists** from the environment or flags are comma-separated (` + "`8.8.8.8,1.1.1.1`" + `),
  or indexed as OpenWhisk writes them (` + "`CONFIG_whisk_containerFactory_containerArgs_extraEnvVars_0`" + `);
  extra-args take one variable per flag (` + "`STEMCELL_CONTAINER_FACTORY__CONTAINER_ARGS__EXTRA_ARGS__LABEL=a,b`" + `).
- **Sizes**: a whole number with an optional unit k, m, g or t, optionally
  followed by B or iB, any case, space optional: ` + "`256 m`" + `, ` + "`256MB`" + `, ` + "`2GiB`" + `;
  a bare number is bytes. Units are binary (1 MB = 1024 KB), as in OpenWhisk.
- **Durations**: Go's form (` + "`10m`" + `, ` + "`1h30m`" + `, ` + "`500ms`" + `) or OpenWhisk's
  (` + "`10 minutes`" + `, ` + "`2 seconds`" + `, ` + "`500 ms`" + `, ` + "`1 day`" + `). A bare number other than
  0 is an error, since it has no unit.
`

const referenceManifest = `
### Runtimes manifest

The manifest has OpenWhisk's ` + "`runtimes.json`" + ` shape:
` + "`{\"runtimes\": {family: [kind...]}, \"blackboxes\": [image...]}`" + `, where a kind is
` + "`{kind, default, image: {prefix, name, tag}, deprecated, attached, requireMain, sentinelledLogs, stemCells}`" + `
and a stem cell is ` + "`{initialCount, memory, reactive?: {minCount, maxCount, ttl, threshold, increment}}`" + `
(` + "`count`" + ` is accepted for ` + "`initialCount`" + `). Unknown fields are errors. Rules: each
family has exactly one default kind; kinds are unique across families; image
names are not empty; initialCount > 0 and memory > 0 (both required);
0 <= minCount <= maxCount, maxCount > 0, ttl > 0, threshold > 0,
0 < increment <= maxCount. A kind ` + "`family:default`" + ` names the family's default kind.
Images listed in ` + "`blackboxes`" + ` are native: never pulled.

The embedded default has one family, ` + "`nodejs`" + `, whose default kind ` + "`js:goja`" + `
runs on ` + "`stemcell/action-runtime:dev`" + ` (built locally from the invoker binary)
with two 256 MB stem cells; the same image is the one blackbox, for native
executables. ` + "`js:goja`" + ` is JavaScript on goja, not Node.js (see [Kinds](#kinds));
` + "`nodejs:default`" + `, which ` + "`wsk`" + ` sends for a ` + "`.js`" + ` file, names it.
`
