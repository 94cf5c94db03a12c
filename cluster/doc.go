// Package cluster is Stemcell's cluster mode on etcd: the registry through
// which an invoker joins a cluster and publishes its pool's memory, the
// view through which a front follows the invokers, and the action
// documents every front and invoker shares.
//
// # Registry
//
// Register grants an etcd lease (TTL 15 s by default) and creates
// /stemcell/v1/<cluster>/invokers/<id> under it in one transaction that
// succeeds only if the key does not exist: a second live process with the
// same id is refused (ErrDuplicateID, naming the id, the key and the
// holder's lease). The key's create revision is the invoker's incarnation:
// it changes, and grows, with every registration, so a front tells a
// restarted invoker from the one it knew.
//
// Publish hands over the pool's snapshot (plain data: this package does
// not import the pool). It never blocks nor calls etcd; a background
// goroutine writes the latest snapshot when it differs from the last one
// written, at most once per SyncInterval (memory-sync-interval), so etcd
// sees about one write per invoker per second under load and none when
// idle. Each write is guarded by the incarnation (compare the create
// revision), so a registry whose lease was lost never overwrites a key
// another process created since. Drain marks the invoker draining and
// writes the mark at once.
//
// When the lease is lost (revoked: the keep-alive stops; or no renewal
// acknowledged for a full TTL by the registry's own clock, by which time
// etcd has expired it) the registry registers anew, with a new
// incarnation, as soon as etcd answers. Meanwhile it is fenced: the status says so (Status,
// StatusChanges), and it also says so when no renewal was acknowledged for
// half the TTL, since the lease may be gone by then (reference/cluster.md:
// the client notices a lost lease only after the server deleted the key).
// Fencing is information for the invoker's operator and health endpoint;
// the invoker keeps serving, because etcd being unreachable says nothing
// about the invoker's health, and without quorum leases do not expire.
//
// # View
//
// NewView lists the invokers, then watches the prefix from the list's
// revision + 1. A broken watch is resumed after the last event seen; a
// watch refused because its revision was compacted makes the view list
// again. The state is an immutable Set (copy-on-write, swapped
// atomically): readers never lock nor wait on etcd, and Set.Changed tells
// when a newer one exists. A probe (a linearizable read every
// ProbeInterval) sets ViewStatus.UnreachableSince while etcd does not
// answer; the view keeps its last Set meanwhile, for fronts to route on.
//
// Set.Invokers maps the entries onto route.Invoker: UserMemory, Free,
// Busy, Idle, Prewarmed and Queued memory, Draining, the incarnation and
// the key's mod revision as Revision.
//
// # Actions
//
// NewActions keeps the cluster's action documents in etcd, with the
// method sets of the server's Actions and ActionChanges: documents without
// code under actions/<ns>/<path>, code in 1 MiB parts under its sha256
// digest, and one reference key per action using a code, so that code no
// action uses is deleted in a transaction that checks no reference is
// left. Writes are compare-and-swap on the document's mod revision
// (overwrite=false has one winner; concurrent updates are retried, never
// lost). Reads come from a mirror fed by list + watch and a code cache
// bounded in bytes; a miss reads etcd. README.md gives the keys and the
// races each guard closes.
//
// The registry and the view run nothing on the activation path: every etcd
// call is made by their goroutines, which Close stops. Actions reads etcd
// on that path only on a miss (a document its mirror lacks, a code not
// cached), each call bounded by CallTimeout.
package cluster
