package config

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestServerConfigValidate(t *testing.T) {
	if err := func() *ServerConfig { s := DefaultServer(); return &s }().Validate("server"); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
	tests := []struct {
		name   string
		mutate func(*ServerConfig)
		want   string
	}{
		{"listen", func(s *ServerConfig) { s.Listen = "3233" }, `server.listen: "3233" is invalid: must be host:port`},
		{"data dir", func(s *ServerConfig) { s.DataDir = " " }, `server.data-dir: " " is invalid: must not be empty`},
		{"blocking wait", func(s *ServerConfig) { s.BlockingWait = 0 }, "server.blocking-wait: 0s is invalid: must be > 0"},
		{"body size", func(s *ServerConfig) { s.MaxBodySize = 0 }, "server.max-body-size: 0 B is invalid: must be > 0"},
		{"put bytes below body size", func(s *ServerConfig) { s.PutBytesInFlight = 10 * MB },
			"server.put-bytes-in-flight: 10 MB is invalid: must be >= server.max-body-size (50 MB), or the largest PUT could never run"},
		{"read header timeout", func(s *ServerConfig) { s.ReadHeaderTimeout = 0 }, "server.read-header-timeout: 0s is invalid: must be > 0"},
		{"read timeout", func(s *ServerConfig) { s.ReadTimeout = -time.Second }, "server.read-timeout: -1s is invalid: must be > 0"},
		{"write timeout", func(s *ServerConfig) { s.WriteTimeout = 0 }, "server.write-timeout: 0s is invalid: must be > 0"},
		{"idle timeout", func(s *ServerConfig) { s.IdleTimeout = 0 }, "server.idle-timeout: 0s is invalid: must be > 0"},
		{"shutdown", func(s *ServerConfig) { s.ShutdownDeadline = -time.Second }, "server.shutdown-deadline: -1s is invalid: must be >= 0"},
		{"age", func(s *ServerConfig) { s.Retention.MaxAge = -time.Hour }, "server.retention.max-age: -1h is invalid"},
		{"count", func(s *ServerConfig) { s.Retention.MaxCount = -1 }, "server.retention.max-count: -1 is invalid"},
		{"level", func(s *ServerConfig) { s.LogLevel = "verbose" }, `server.log-level: "verbose" is invalid`},
		{"format", func(s *ServerConfig) { s.LogFormat = "xml" }, `server.log-format: "xml" is invalid`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := DefaultServer()
			tt.mutate(&s)
			err := s.Validate("server")
			if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate = %v, want ErrInvalid containing %q", err, tt.want)
			}
		})
	}
}
