package config

// ByteSize is a size in bytes. It parses the forms operators write
// ("256 m", "256MB", "2GiB", plain bytes) and prints in the largest whole unit.
type ByteSize int64

// Units of ByteSize. Like OpenWhisk, "m" and "MB" mean MiB.
const (
	B  ByteSize = 1
	KB ByteSize = 1 << 10
	MB ByteSize = 1 << 20
	GB ByteSize = 1 << 30
	TB ByteSize = 1 << 40
)

// Bytes returns the size in bytes.
func (b ByteSize) Bytes() int64 { return int64(b) }

// MBs returns the size in whole MiB, rounded down.
func (b ByteSize) MBs() int64 { return int64(b / MB) }
