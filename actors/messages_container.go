package actors

// A container actor stopped together with its pool still destroys its
// container and reports the memory; the pool is gone by then, so the
// report is an expected dead letter, not worth a log line.
func (*ContainerRemoved) IgnoreDeadLetterLogging() {}
