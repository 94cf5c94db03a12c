package config

import "testing"

func TestBuiltIn(t *testing.T) {
	tests := []struct {
		img  ImageName
		want bool
	}{
		{RuntimeImage, true},
		{ImageName{Prefix: "stemcell", Name: "action-runtime", Tag: "test-123"}, true},
		{ImageName{Prefix: "/stemcell/", Name: "action-runtime"}, true},
		{ImageName{Prefix: "openwhisk", Name: "action-nodejs-v20", Tag: "nightly"}, false},
		{ImageName{Prefix: "other", Name: "action-runtime", Tag: "dev"}, false},
		{ImageName{Name: "action-runtime", Tag: "dev"}, false},
	}
	for _, tt := range tests {
		if got := (RuntimeKind{Kind: "k", Image: tt.img}).BuiltIn(); got != tt.want {
			t.Errorf("BuiltIn on %v = %v, want %v", tt.img, got, tt.want)
		}
	}
}

func TestBuiltInKind(t *testing.T) {
	if k, ok := DefaultManifest().BuiltInKind("nodejs"); !ok || k.Kind != "js:goja" {
		t.Errorf("embedded manifest: nodejs's built-in kind = %+v, %v; want js:goja", k, ok)
	}
	stock := mustManifest(t, "testdata/openwhisk-runtimes.json")
	for _, fam := range []string{"nodejs", "python", "cobol"} {
		if k, ok := stock.BuiltInKind(fam); ok {
			t.Errorf("OpenWhisk's manifest: family %s has a built-in kind %+v", fam, k)
		}
	}
}

func TestFamily(t *testing.T) {
	for kind, want := range map[string]string{"nodejs:20": "nodejs", "js:goja": "js", "nodejs:default": "nodejs", "blackbox": "blackbox", "": ""} {
		if got := Family(kind); got != want {
			t.Errorf("Family(%q) = %q, want %q", kind, got, want)
		}
	}
}
