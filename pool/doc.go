// Package pool is Stemcell's container pool: the pool actor, which owns
// the memory ledger and decides where every activation runs, and the
// container actor, which runs one container's life.
//
// # Placement
//
// An activation goes, in this order, to: a warm container of its
// invocation namespace and action identity (name, version, code digest)
// with spare concurrency, preferring an initialised one over one whose
// stem cell is initialising over one still being created; a stem cell of
// its kind and memory (with container-pool.prewarm-promotion, the smallest
// large enough); a new container if its memory fits; otherwise idle warm
// containers are evicted in the order of container-pool.eviction-policy
// (least recently used first by default; policy.go), just enough and only
// if that makes it fit, and the activation waits for their memory to come
// back; otherwise it waits. The decisions are pure functions (decide,
// pickStemCell, planAhead, and package policy) over plain data.
//
// Waiting activations form one FIFO buffer (container-pool.buffer-size).
// While it is not empty, new work queues behind it and stem-cell
// reservations are refused; its head is retried on every change of
// capacity and placed by a direct call, so it can be neither sent twice
// nor overtaken. A job a container bounces back goes to the front.
//
// # Memory
//
// The ledger counts the memory of containers starting (cold creations,
// stem-cell reservations, first inits), prewarmed, busy, idle and being
// removed. Memory comes back only when the engine has removed a container
// (ContainerRemoved) or a stem-cell creation failed (ReleaseMemory), and
// the ledger refuses any booking over container-pool.user-memory, so the
// budget holds at every instant. Every container-pool.memory-sync-interval
// the pool publishes an actors.MemorySnapshot to its subscribers.
//
// # Embedding
//
// Spawn starts a pool in an actor system the caller owns; Invoke, Submit,
// Snapshot, Subscribe and Shutdown wrap the raw messages of package actors,
// which may be sent to PID directly instead. Spawn also starts the pool's
// children: the factory actor and the prewarm scheduler. Submit returns at
// once with a channel that keeps the one answer until read, for callers
// that wait with deadlines of their own (the daemon's blocking invoke).
// An activation with LogsAfterResult gets its result before its logs are
// collected; the logs follow on Result.LateLogs.
//
// # Contract with the container actor
//
// The pool sends Job (never more than the action's max concurrency at
// once, counted by the pool itself) and Remove. The container sends
// JobDone and then answers the job's caller (so the capacity is back before
// the caller can ask again), or bounces the job with Reschedule
// (which the pool takes to mean the job did not run there and the container
// is going away). ContainerRemoving stops placement on it; ContainerRemoved
// returns its memory, exactly once. The pool ends container actors: their
// own Stop of themselves is ignored and the pool poisons them after
// handling ContainerRemoved, so a Job sent just before the pool learnt of
// the removal is bounced rather than dropped with a stopped mailbox.
//
// Keep-alive: without word from the pool a container pauses after
// pause-grace and goes away idle-container after the pause, which is the
// default policy. Under another container-pool.keep-alive-policy the pool
// sends KeepAlive (pause and removal times) when a container goes idle and
// when it reports its pause (ContainerPaused); the plan holds until the
// container's next job.
//
// # The container actor
//
// A state machine (container_fsm.go): its states, the table of allowed
// transitions, become (the one place the state changes: it logs, counts
// and refuses what the table does not allow) and each state's step. The
// rest by concern: container.go (parameters, fields, message dispatch),
// container_lifecycle.go (start, restart, stop, creation, jobs arriving
// and finishing, pause timers), container_keepalive.go (the pool's
// keep-alive plans), container_workers.go (the goroutines that
// run jobs), container_answers.go (what the pool and the callers hear),
// container_io.go (creation, pause, resume and destroy off the actor) and
// container_engine.go (changes made to the container outside the pool).
package pool
