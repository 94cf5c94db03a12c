package config

import "math"

// memoryRatio is how many containers of mem fit in the user memory, with
// integer division as OpenWhisk does. A container larger than the whole
// user memory (or a non-positive size) counts as one, where OpenWhisk would
// divide by zero.
func (c ContainerPoolConfig) memoryRatio(mem ByteSize) int64 {
	if mem <= 0 {
		return 1
	}
	return max(int64(c.UserMemory/mem), 1)
}

// CPUShare is the docker --cpu-shares of a container of mem: 1024 divided
// by how many such containers fit in the user memory, at least 2
// (reference §1.1): 2 GB and 256 MB give 128; 1024 MB and 1 MB give 2.
func (c ContainerPoolConfig) CPUShare(mem ByteSize) int {
	return int(max(1024/c.memoryRatio(mem), 2))
}

// CPULimit is the docker --cpus of a container of mem when user-cpus is
// set: user-cpus divided by how many such containers fit in the user
// memory, rounded to 5 decimals, at least 0.01. ok is false when user-cpus
// is unset, and then no limit applies.
func (c ContainerPoolConfig) CPULimit(mem ByteSize) (limit float64, ok bool) {
	if c.UserCPUs == nil {
		return 0, false
	}
	v := *c.UserCPUs / float64(c.memoryRatio(mem))
	v = math.Round(v*1e5) / 1e5
	return max(v, 0.01), true
}

// MaxContainers is how many containers of the smallest action memory fit in
// the user memory (OpenWhisk's maximumContainers), at least 1.
func (c *Config) MaxContainers() int {
	if c.Limits.Memory.Min <= 0 {
		return 1
	}
	return int(max(c.ContainerPool.UserMemory/c.Limits.Memory.Min, 1))
}
