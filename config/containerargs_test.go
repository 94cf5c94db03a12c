package config

import (
	"reflect"
	"testing"
)

func TestEnvMap(t *testing.T) {
	tests := []struct {
		name string
		in   []string
		want map[string]string
	}{
		{"none", nil, map[string]string{}},
		{"key=value", []string{"A=1"}, map[string]string{"A": "1"}},
		{"splits at the first =", []string{"A=b=c"}, map[string]string{"A": "b=c"}},
		{"bare key gives empty value", []string{"FLAG"}, map[string]string{"FLAG": ""}},
		{"key= gives empty value", []string{"E="}, map[string]string{"E": ""}},
		{"OpenWhisk's concurrency switch", []string{"__OW_ALLOW_CONCURRENT=true"}, map[string]string{"__OW_ALLOW_CONCURRENT": "true"}},
		{"later item wins", []string{"A=1", "A=2"}, map[string]string{"A": "2"}},
		{"empty item and empty key skipped", []string{"", "=x", "B=2"}, map[string]string{"B": "2"}},
		{"spaces kept", []string{"A= x "}, map[string]string{"A": " x "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ContainerArgsConfig{ExtraEnvVars: tt.in}.EnvMap()
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("EnvMap(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}
