package config

import "testing"

func cpus(f float64) *float64 { return &f }

func TestCPUShare(t *testing.T) {
	tests := []struct {
		name      string
		user, mem ByteSize
		want      int
	}{
		{"reference: 2 GB and 256 MB", 2 * GB, 256 * MB, 128},
		{"reference: 1024 MB and 1 MB, minimum 2", 1024 * MB, MB, 2},
		{"inner division is integer: 1000 MB / 256 MB = 3", 1000 * MB, 256 * MB, 341},
		{"one container takes the whole memory", 256 * MB, 256 * MB, 1024},
		{"container larger than the user memory", 256 * MB, 512 * MB, 1024},
		{"zero memory gets the minimum", 1 * GB, 0, 1024},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ContainerPoolConfig{UserMemory: tt.user}
			if got := c.CPUShare(tt.mem); got != tt.want {
				t.Errorf("CPUShare(%v) with user memory %v = %d, want %d", tt.mem, tt.user, got, tt.want)
			}
		})
	}
}

func TestCPULimit(t *testing.T) {
	tests := []struct {
		name      string
		user, mem ByteSize
		cpus      *float64
		want      float64
		wantOK    bool
	}{
		{"reference: 2 GB, 256 MB, 2 cpus", 2 * GB, 256 * MB, cpus(2), 0.25, true},
		{"reference: 768 MB, 256 MB, 2 cpus, 5 decimals", 768 * MB, 256 * MB, cpus(2), 0.66667, true},
		{"reference: 1024 MB, 1 MB, 1 cpu, minimum 0.01", 1024 * MB, MB, cpus(1), 0.01, true},
		{"integer inner division: 1000 MB / 256 MB = 3", 1000 * MB, 256 * MB, cpus(3), 1, true},
		{"user-cpus unset: no limit", 2 * GB, 256 * MB, nil, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ContainerPoolConfig{UserMemory: tt.user, UserCPUs: tt.cpus}
			got, ok := c.CPULimit(tt.mem)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("CPULimit(%v) = %v, %v; want %v, %v", tt.mem, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestMaxContainers(t *testing.T) {
	tests := []struct {
		name    string
		user    ByteSize
		min     ByteSize
		wantMax int
	}{
		{"defaults: 1024/128 = 8 containers", 1024 * MB, 128 * MB, 8},
		{"ansible default 2048m", 2048 * MB, 128 * MB, 16},
		{"user memory below the minimum: 1", 64 * MB, 128 * MB, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			c.ContainerPool.UserMemory = tt.user
			c.Limits.Memory.Min = tt.min
			if got := c.MaxContainers(); got != tt.wantMax {
				t.Errorf("MaxContainers = %d, want %d", got, tt.wantMax)
			}
		})
	}
}
