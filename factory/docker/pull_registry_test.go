package docker

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/docker/docker/api/types/image"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/rs/zerolog"

	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/factory"
	"github.com/stemcell-io/stemcell/internal/enginetest"
)

// localRegistry serves an in-memory registry on a loopback port, which the
// engine accepts without TLS, and pushes a copy of a test image to it. It
// returns the registry's host:port and the image's name in it; the local
// tag the push needed is gone again, so the engine must pull the image.
func localRegistry(t *testing.T, from string) (host string, img config.ImageName) {
	t.Helper()
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	host = strings.TrimPrefix(srv.URL, "http://")
	img = config.ImageName{Prefix: "stemcell-pulltest", Name: "fake", Tag: "t-" + randomSuffix()}
	ref := host + "/" + img.String()
	cli := testEnv.eng.cli
	ctx := testCtx(t)
	if err := cli.ImageTag(ctx, from, ref); err != nil {
		t.Fatal(err)
	}
	rc, err := cli.ImagePush(ctx, ref, image.PushOptions{RegistryAuth: "e30="}) // "{}": no credentials
	if err == nil {
		err = drainJSONStream(rc)
		rc.Close()
	}
	removeImage(ref) // untags only: from keeps the layers
	if err != nil {
		t.Fatalf("pushing %s: %v", ref, err)
	}
	t.Cleanup(func() { removeImage(ref) })
	return host, img
}

// syncBuffer is a log sink the factory's goroutines write to.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// A kind whose image is only in a registry is pulled by its first
// container, with the pull in the log; the next container does not ask
// the engine again.
func TestKindImagePulledOnFirstUse(t *testing.T) {
	needEngine(t)
	host, img := localRegistry(t, testEnv.fakeImage)
	cfg := testConfig(t)
	cfg.ContainerFactory.RuntimesRegistry.URL = host
	var logs syncBuffer
	f, err := NewWithOptions(cfg, zerolog.New(&logs), Options{BinaryPath: testEnv.binary, RuntimeImages: []string{testEnv.runtimeImage}})
	if err != nil {
		t.Fatal(err)
	}
	enginetest.CleanupFactory(t, f)
	ce := &countingEngine{engine: f.eng}
	f.eng = ce
	ref := host + "/" + img.String()
	for i := range 2 {
		spec := specFor(f, testEnv.fakeImage, false, nil)
		spec.Image = img
		c := create(t, f, spec)
		if err := c.Destroy(testCtx(t)); err != nil {
			t.Fatal(err)
		}
		if ce.pulls != 1 {
			t.Fatalf("container %d: %d pulls, want 1 (on first use only)", i+1, ce.pulls)
		}
	}
	if _, found, err := testEnv.eng.ImageInspect(testCtx(t), ref); err != nil || !found {
		t.Fatalf("image %s after the pull: found %v, err %v", ref, found, err)
	}
	for _, want := range []string{`"image":"` + ref + `"`, `"message":"pulling image: it is not on this host`, `"message":"pulled image"`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("the log lacks %s:\n%s", want, logs.String())
		}
	}
}

// A kind whose image cannot be pulled is the developer's error, says why,
// and leaves no container behind.
func TestKindImageThatCannotBePulled(t *testing.T) {
	needEngine(t)
	host, img := localRegistry(t, testEnv.fakeImage)
	for _, tt := range []struct {
		name, registry string
		image          config.ImageName
		reason         string
	}{
		// Port 1 on loopback: nothing listens, as on a host without a
		// registry.
		{"no registry reachable", "127.0.0.1:1", img, "No registry could be reached from the invoker's host"},
		{"registry without the image", host, config.ImageName{Prefix: img.Prefix, Name: "absent", Tag: img.Tag}, "The registry has no such image, or refused access to it"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(t)
			cfg.ContainerFactory.RuntimesRegistry.URL = tt.registry
			f := newTestFactory(t, cfg)
			spec := specFor(f, testEnv.fakeImage, false, nil)
			spec.Image = tt.image
			_, err := f.CreateContainer(testCtx(t), spec)
			var se *factory.StartupError
			want := "Failed to pull container image '" + tt.registry + "/" + tt.image.String() + "'. " + tt.reason
			if !errors.As(err, &se) || !se.UserError || !strings.HasPrefix(se.Msg, want) {
				t.Fatalf("err = %v, want a developer error starting %q", err, want)
			}
			left, err := testEnv.eng.List(context.Background(), map[string]string{LabelInvoker: f.invoker}, "")
			if err != nil || len(left) != 0 {
				t.Fatalf("containers left behind: %v %v", left, err)
			}
		})
	}
}
