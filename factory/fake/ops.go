package fake

// Op names a factory or container operation.
type Op int

// The operations the fake counts, delays, gates and fails.
const (
	OpCreate Op = iota
	OpInit
	OpRun
	OpSuspend
	OpResume
	OpLogs
	OpDestroy
	numOps
)

var opNames = [numOps]string{"create", "init", "run", "suspend", "resume", "logs", "destroy"}

func (o Op) String() string {
	if o < 0 || o >= numOps {
		return "op(" + itoa(int(o)) + ")"
	}
	return opNames[o]
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	neg := n < 0
	if neg {
		n = -n
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}
