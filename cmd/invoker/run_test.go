package main

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/stemcell-io/stemcell/config"
)

func TestServerConfigFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		check   func(config.ServerConfig) bool
		wantErr string
	}{
		{"defaults", nil, func(s config.ServerConfig) bool {
			d := config.DefaultServer()
			return s.Listen == d.Listen && s.KeysFile == filepath.Join(d.DataDir, "keys") && s.BlockingWait == time.Minute
		}, ""},
		{"set", []string{"--listen", "0.0.0.0:80", "--data-dir", "/var/lib/x", "--max-body-size", "2 MB", "--retention-max-count", "5", "--pprof"},
			func(s config.ServerConfig) bool {
				return s.Listen == "0.0.0.0:80" && s.KeysFile == "/var/lib/x/keys" && s.MaxBodySize == 2*config.MB && s.Retention.MaxCount == 5 && s.Pprof
			}, ""},
		{"keys file", []string{"--keys-file", "/etc/keys"}, func(s config.ServerConfig) bool { return s.KeysFile == "/etc/keys" }, ""},
		{"bad size", []string{"--max-body-size", "lots"}, nil, `--max-body-size: "lots" is invalid`},
		{"bad listen", []string{"--listen", "nowhere"}, nil, `server.listen: "nowhere" is invalid`},
		{"bad level", []string{"--log-level", "loud"}, nil, `server.log-level: "loud" is invalid`},
		{"negative retention", []string{"--retention-max-age", "-1h"}, nil, "server.retention.max-age: -1h is invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := pflag.NewFlagSet("run", pflag.ContinueOnError)
			addRunFlags(fs)
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			s, err := serverConfig(fs, config.DefaultServer())
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !tt.check(s) {
				t.Fatalf("serverConfig = %+v, %v", s, err)
			}
		})
	}
}

func TestStartingHandler(t *testing.T) {
	h := &swapHandler{}
	h.set(startingHandler())
	tests := []struct {
		path   string
		status int
	}{{"/healthz", 200}, {"/readyz", 503}, {"/api/v1/namespaces/_/actions", 503}}
	for _, tt := range tests {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", tt.path, nil))
		if rec.Code != tt.status {
			t.Errorf("starting %s = %d, want %d", tt.path, rec.Code, tt.status)
		}
	}
	h.set(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(299) }))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
	if rec.Code != 299 {
		t.Errorf("after set, status = %d", rec.Code)
	}
}
