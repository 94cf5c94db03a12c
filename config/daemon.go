package config

import (
	"net"
	"strings"
	"time"
)

// ServerConfig holds the standalone daemon's own settings (`invoker run`).
// They have no OpenWhisk counterpart; keys are kebab-case under "server".
type ServerConfig struct {
	Listen  string `koanf:"listen"`   // host:port of the HTTP API
	DataDir string `koanf:"data-dir"` // database and generated keys
	// KeysFile holds "uuid:key namespace" lines; empty means
	// <data-dir>/keys. A missing file is created with one guest key.
	KeysFile string `koanf:"keys-file"`
	// BlockingWait is how long a blocking invoke waits for its result
	// before answering 202 with the id (OpenWhisk: 60 s).
	BlockingWait time.Duration `koanf:"blocking-wait"`
	// MaxBodySize bounds action PUT bodies; invoke bodies are bounded by
	// limits.payload.max.
	MaxBodySize ByteSize `koanf:"max-body-size"`
	// PutBytesInFlight bounds the action PUT bodies processed at once;
	// each costs a few times its size while it is decoded and stored.
	PutBytesInFlight ByteSize `koanf:"put-bytes-in-flight"`
	// HTTP timeouts. ReadTimeout bounds reading a request, headers and
	// body; once the body is read a handler may take as long as it needs
	// (a blocking invoke waits up to BlockingWait). WriteTimeout bounds
	// writing one response, from its first byte.
	ReadHeaderTimeout time.Duration `koanf:"read-header-timeout"`
	ReadTimeout       time.Duration `koanf:"read-timeout"`
	WriteTimeout      time.Duration `koanf:"write-timeout"`
	IdleTimeout       time.Duration `koanf:"idle-timeout"`
	// ShutdownDeadline is how long running activations may finish after
	// SIGTERM before they are answered with an internal error.
	ShutdownDeadline time.Duration   `koanf:"shutdown-deadline"`
	Pprof            bool            `koanf:"pprof"` // serve /debug/pprof/
	Retention        RetentionConfig `koanf:"retention"`
	LogLevel         string          `koanf:"log-level"`  // trace..error
	LogFormat        string          `koanf:"log-format"` // auto, json, console
}

// RetentionConfig bounds the stored activation records; 0 keeps all.
type RetentionConfig struct {
	MaxAge   time.Duration `koanf:"max-age"`
	MaxCount int           `koanf:"max-count"`
}

// DefaultServer returns the daemon's defaults.
func DefaultServer() ServerConfig {
	return ServerConfig{
		Listen:            "127.0.0.1:3233",
		DataDir:           "./data",
		BlockingWait:      60 * time.Second,
		MaxBodySize:       50 * MB,
		PutBytesInFlight:  100 * MB,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       5 * time.Minute,
		WriteTimeout:      5 * time.Minute,
		IdleTimeout:       time.Minute,
		ShutdownDeadline:  30 * time.Second,
		Retention:         RetentionConfig{MaxAge: 7 * 24 * time.Hour, MaxCount: 100000},
		LogLevel:          "info",
		LogFormat:         "auto",
	}
}

// Validate checks the daemon settings, naming each key under prefix k
// (normally "server").
func (s *ServerConfig) Validate(k string) error {
	var errs Errors
	if _, _, err := net.SplitHostPort(s.Listen); err != nil {
		errs.invalid(k+".listen", s.Listen, "must be host:port, e.g. 127.0.0.1:3233")
	}
	if strings.TrimSpace(s.DataDir) == "" {
		errs.invalid(k+".data-dir", s.DataDir, "must not be empty")
	}
	if s.BlockingWait <= 0 {
		errs.invalid(k+".blocking-wait", s.BlockingWait, "must be > 0")
	}
	if s.MaxBodySize <= 0 {
		errs.invalid(k+".max-body-size", s.MaxBodySize, "must be > 0")
	}
	if s.PutBytesInFlight < s.MaxBodySize {
		errs.invalid(k+".put-bytes-in-flight", s.PutBytesInFlight, "must be >= "+k+".max-body-size ("+s.MaxBodySize.String()+"), or the largest PUT could never run")
	}
	for _, t := range []struct {
		key string
		d   time.Duration
	}{
		{"read-header-timeout", s.ReadHeaderTimeout}, {"read-timeout", s.ReadTimeout},
		{"write-timeout", s.WriteTimeout}, {"idle-timeout", s.IdleTimeout},
	} {
		if t.d <= 0 {
			errs.invalid(k+"."+t.key, t.d, "must be > 0")
		}
	}
	if s.ShutdownDeadline < 0 {
		errs.invalid(k+".shutdown-deadline", s.ShutdownDeadline, "must be >= 0")
	}
	if s.Retention.MaxAge < 0 {
		errs.invalid(k+".retention.max-age", s.Retention.MaxAge, "must be >= 0 (0 keeps records of any age)")
	}
	if s.Retention.MaxCount < 0 {
		errs.invalid(k+".retention.max-count", s.Retention.MaxCount, "must be >= 0 (0 keeps any number)")
	}
	switch s.LogLevel {
	case "trace", "debug", "info", "warn", "error":
	default:
		errs.invalid(k+".log-level", s.LogLevel, "must be one of trace, debug, info, warn, error")
	}
	switch s.LogFormat {
	case "auto", "json", "console":
	default:
		errs.invalid(k+".log-format", s.LogFormat, "must be one of auto, json, console")
	}
	return errs.Err()
}
