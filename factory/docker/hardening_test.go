package docker

import (
	"context"
	"encoding/base64"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/docker/docker/api/types/network"
	"github.com/rs/zerolog"

	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/factory"
	"github.com/stemcell-io/stemcell/internal/enginetest"
)

// profileFactory is newTestFactory under profile, Init done. With builtin
// false the runtime image is not the factory's own (no runtime images at
// all), so it is confined as any image running as root would be.
func profileFactory(t *testing.T, profile string, builtin bool) *Factory {
	t.Helper()
	cfg := testConfig(t)
	cfg.Docker.Hardening.Profile = profile
	opts := Options{BinaryPath: testEnv.binary, RuntimeImages: []string{}, ActionNetwork: testEnv.network}
	if builtin {
		opts.RuntimeImages = []string{testEnv.runtimeImage}
	}
	f, err := NewWithOptions(cfg, zerolog.Nop(), opts)
	if err != nil {
		t.Fatal(err)
	}
	enginetest.CleanupFactory(t, f)
	if err := f.Init(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	return f
}

// Bits of capabilities(7) in /proc/<pid>/status.
const (
	capNetAdmin = 12
	capNetRaw   = 13
)

// TestHardeningProbe runs the test native action's probe inside an action
// container and checks, from there, what the container lets it do; the
// openwhisk profile's case shows that the probe sees it when something is
// allowed (a dial that connects, a root that takes writes).
func TestHardeningProbe(t *testing.T) {
	needEngine(t)
	// CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID: bits 0 1 3 4 5 6 7.
	const defaultCapAdd = "00000000000000fb"
	tests := []struct {
		name          string
		profile       string
		builtin       bool
		uid           int
		caps          string // CapEff, CapPrm and CapBnd; "" = checked by capsOK
		noNewPrivs    string
		rootWritable  bool
		reachesOthers bool
	}{
		{name: "strict, the invoker's runtime image", profile: config.ProfileStrict, builtin: true,
			uid: 65534, caps: "0000000000000000", noNewPrivs: "1"},
		{name: "strict, another image running as root", profile: config.ProfileStrict,
			uid: 0, caps: defaultCapAdd, noNewPrivs: "1", rootWritable: true},
		{name: "openwhisk", profile: config.ProfileOpenWhisk, builtin: true,
			uid: 0, noNewPrivs: "0", rootWritable: true, reachesOthers: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := profileFactory(t, tt.profile, tt.builtin)
			netName, gateway := f.ActionNetwork()
			if gateway == "" {
				t.Fatalf("ActionNetwork() = %q, %q: no gateway", netName, gateway)
			}
			// The invoker's side of the gateway: where an action reaches
			// the invoker (its API host).
			ln, err := net.Listen("tcp", net.JoinHostPort(gateway, "0"))
			if err != nil {
				t.Fatalf("listening on the gateway of %s: %v", netName, err)
			}
			defer ln.Close()

			// Two targets: a container of another image, and a peer of
			// the probe's own image (another tenant's action).
			other := create(t, f, specFor(f, testEnv.fakeImage, false, nil))
			defer other.Destroy(context.Background())
			peer := create(t, f, specFor(f, testEnv.runtimeImage, false, nil))
			defer peer.Destroy(context.Background())
			c := create(t, f, specFor(f, testEnv.runtimeImage, false, nil))
			defer c.Destroy(context.Background())
			expect(t, factory.StatusSuccess)(c.Initialize(testCtx(t), initReq(base64.StdEncoding.EncodeToString(testEnv.native), true)))
			params := fmt.Sprintf(`{"probe":{"dial":[%q,%q,%q]}}`, other.Addr(), peer.Addr(), ln.Addr().String())
			got := expect(t, factory.StatusSuccess)(c.Run(testCtx(t), runReq(params)))
			t.Logf("probe on %s: %v", netName, got)

			status, _ := got["status"].(map[string]any)
			if uid, _ := got["uid"].(float64); int(uid) != tt.uid {
				t.Errorf("uid %v, want %d", got["uid"], tt.uid)
			}
			if status["NoNewPrivs"] != tt.noNewPrivs {
				t.Errorf("NoNewPrivs %v, want %s", status["NoNewPrivs"], tt.noNewPrivs)
			}
			for _, k := range []string{"CapEff", "CapPrm", "CapBnd"} {
				v, _ := status[k].(string)
				switch bits, err := strconv.ParseUint(v, 16, 64); {
				case err != nil:
					t.Errorf("%s %q: %v", k, v, err)
				case tt.caps != "" && v != tt.caps:
					t.Errorf("%s %s, want %s", k, v, tt.caps)
				case tt.caps == "" && (bits == 0 || bits&(1<<capNetRaw|1<<capNetAdmin) != 0):
					t.Errorf("%s %s: want Docker's default set without NET_RAW and NET_ADMIN", k, v)
				}
			}
			if tt.rootWritable {
				if got["writeRoot"] != "" || got["chmodBin"] != "" {
					t.Errorf("root filesystem: creating /x: %q, chmod /invoker: %q; want both to succeed", got["writeRoot"], got["chmodBin"])
				}
			} else {
				if w, _ := got["writeRoot"].(string); !strings.Contains(w, "read-only file system") {
					t.Errorf("creating /x: %q, want it refused on a read-only file system", w)
				}
				if got["chmodBin"] == "" {
					t.Error("chmod /invoker succeeded, want it refused")
				}
			}
			if got["tmpExec"] != "" {
				t.Errorf("writing and running a file in /tmp: %q, want success", got["tmpExec"])
			}
			dial, _ := got["dial"].(map[string]any)
			for _, target := range []*Container{other, peer} {
				if got := dial[target.Addr()]; (got == "") != tt.reachesOthers {
					t.Errorf("dial to the action container %s (%s): %q; want it to connect: %v", target.Addr(), target.name, got, tt.reachesOthers)
				}
			}
			if toHost := dial[ln.Addr().String()]; toHost != "" {
				t.Errorf("dial to the invoker at the gateway %s: %q, want it to connect", ln.Addr(), toHost)
			}
			// The invoker still reaches both containers.
			if out, err := other.Run(testCtx(t), runReq(`{"from":"the invoker"}`)); err != nil || out.Status != factory.StatusSuccess {
				t.Errorf("the invoker's /run on the other container: %v %s", err, out.Result)
			}
		})
	}
}

// TestProfileSettings inspects the containers each profile makes: the
// openwhisk profile reproduces OpenWhisk's settings exactly.
func TestProfileSettings(t *testing.T) {
	needEngine(t)
	strictCaps := config.DefaultHardeningCapAdd()
	tests := []struct {
		profile, image string
		capAdd         []string
		capDrop        []string
		secOpt         []string
		readOnly       bool
		user           string
		tmpfs          bool
	}{
		{profile: config.ProfileOpenWhisk, image: testEnv.runtimeImage, capDrop: []string{"NET_ADMIN", "NET_RAW"}},
		{profile: config.ProfileOpenWhisk, image: testEnv.fakeImage, capDrop: []string{"NET_ADMIN", "NET_RAW"}},
		{profile: config.ProfileStrict, image: testEnv.runtimeImage, capDrop: []string{"ALL"}, secOpt: []string{"no-new-privileges:true"},
			readOnly: true, user: "65534:65534", tmpfs: true},
		{profile: config.ProfileStrict, image: testEnv.fakeImage, capAdd: strictCaps, capDrop: []string{"ALL"}, secOpt: []string{"no-new-privileges:true"}},
	}
	// The parent test owns the factories: a subtest's cleanup would close
	// one while the next subtest still uses it.
	factories := map[string]*Factory{
		config.ProfileOpenWhisk: profileFactory(t, config.ProfileOpenWhisk, true),
		config.ProfileStrict:    profileFactory(t, config.ProfileStrict, true),
	}
	for _, tt := range tests {
		t.Run(tt.profile+" "+tt.image, func(t *testing.T) {
			f := factories[tt.profile]
			c := create(t, f, specFor(f, tt.image, false, nil))
			defer c.Destroy(context.Background())
			info, err := testEnv.eng.Inspect(testCtx(t), c.ID())
			if err != nil {
				t.Fatal(err)
			}
			if !sameCaps(info.CapAdd, tt.capAdd) || !sameCaps(info.CapDrop, tt.capDrop) {
				t.Errorf("cap-add %v cap-drop %v, want %v and %v", info.CapAdd, info.CapDrop, tt.capAdd, tt.capDrop)
			}
			if !equalStrings(info.SecurityOpt, tt.secOpt) || info.ReadOnly != tt.readOnly || info.User != tt.user {
				t.Errorf("security-opt %v read-only %v user %q, want %v %v %q", info.SecurityOpt, info.ReadOnly, info.User, tt.secOpt, tt.readOnly, tt.user)
			}
			if want := "rw,exec,nosuid,nodev,size=67108864,mode=1777"; tt.tmpfs && (len(info.Tmpfs) != 1 || info.Tmpfs["/tmp"] != want) || !tt.tmpfs && len(info.Tmpfs) != 0 {
				t.Errorf("tmpfs %v, want /tmp %q: %v", info.Tmpfs, want, tt.tmpfs)
			}
			name, _ := f.ActionNetwork()
			wantNet := "bridge"
			if tt.profile == config.ProfileStrict {
				wantNet = testEnv.network
			}
			if name != wantNet || info.IPs[name] == "" || c.Addr() != info.IPs[name]+":8080" {
				t.Errorf("on network %q (mode %q), IPs %v, addr %s; want the address on %s", name, info.Network, info.IPs, c.Addr(), wantNet)
			}
		})
	}
}

// sameCaps compares capability lists as the engine does: without "CAP_",
// in any order.
func sameCaps(got, want []string) bool {
	norm := func(l []string) []string {
		out := make([]string, len(l))
		for i, c := range l {
			out[i] = config.CapabilityName(c)
		}
		slices.Sort(out)
		return out
	}
	return slices.Equal(norm(got), norm(want))
}

// TestActionNetworkOnTheEngine: invokers starting at once on a host without
// the network all get one that keeps containers apart, and none loses the
// one it chose to another's tidying up; a network of that name that is not
// Stemcell's, or lets containers talk, is refused.
func TestActionNetworkOnTheEngine(t *testing.T) {
	needEngine(t)
	t.Run("racing invokers", func(t *testing.T) {
		name := "stemcell-actions-t-race-" + randomSuffix()
		// Registered first, so it runs after the factories' cleanups.
		t.Cleanup(func() {
			if err := removeNetworks(name); err != nil {
				t.Error(err)
			}
		})
		const invokers = 4
		fs := make([]*Factory, invokers)
		for i := range fs {
			cfg := testConfig(t)
			cfg.Invoker.Name = enginetest.UniqueName(fmt.Sprintf("race%d", i))
			f, err := NewWithOptions(cfg, zerolog.Nop(), Options{BinaryPath: testEnv.binary, RuntimeImages: []string{}, ActionNetwork: name})
			if err != nil {
				t.Fatal(err)
			}
			enginetest.CleanupFactory(t, f)
			fs[i] = f
		}
		var wg sync.WaitGroup
		errs := make([]error, invokers)
		for i, f := range fs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = f.Init(testCtx(t))
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("invoker %d: Init: %v", i, err)
			}
		}
		nets, err := testEnv.eng.NetworkList(testCtx(t), name)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%d invokers at once left %d networks named %s", invokers, len(nets), name)
		for i, f := range fs {
			got, gw := f.ActionNetwork()
			j := slices.IndexFunc(nets, func(n networkInfo) bool { return n.ID == f.base.Network })
			if got != name || j < 0 {
				t.Fatalf("invoker %d: network %q, containers on %q: want one of the networks named %s: %v", i, got, f.base.Network, name, nets)
			}
			n := nets[j]
			if n.Labels[LabelManaged] != "true" || n.Options[iccOption] != "false" || n.Driver != "bridge" || gw == "" || gw != n.Gateway {
				t.Errorf("invoker %d: network %+v, gateway %q: want a bridge of ours without inter-container traffic", i, n, gw)
			}
		}
		c := create(t, fs[0], specFor(fs[0], testEnv.fakeImage, false, nil))
		if out, err := c.Run(testCtx(t), runReq(`{"on":"the shared network"}`)); err != nil || out.Status != factory.StatusSuccess {
			t.Errorf("run: %v %s", err, out.Result)
		}
		if err := c.Destroy(testCtx(t)); err != nil {
			t.Fatal(err)
		}
	})
	refusals := []struct {
		name    string
		opts    network.CreateOptions
		wantErr string
	}{
		{name: "not ours", opts: network.CreateOptions{Driver: "bridge", Options: iccOff},
			wantErr: "was not made by Stemcell (no label io.stemcell.managed=true)"},
		{name: "ours with inter-container traffic", opts: network.CreateOptions{Driver: "bridge", Labels: ours},
			wantErr: "want a bridge network with com.docker.network.bridge.enable_icc=false"},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			name := "stemcell-actions-t-refused-" + randomSuffix()
			if _, err := testEnv.eng.cli.NetworkCreate(testCtx(t), name, tt.opts); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				if err := removeNetworks(name); err != nil {
					t.Error(err)
				}
			})
			f, err := NewWithOptions(testConfig(t), zerolog.Nop(), Options{BinaryPath: testEnv.binary, RuntimeImages: []string{}, ActionNetwork: name})
			if err != nil {
				t.Fatal(err)
			}
			enginetest.CleanupFactory(t, f)
			if err := f.Init(testCtx(t)); err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), name) {
				t.Fatalf("Init: %v; want an error naming %s and saying %q", err, name, tt.wantErr)
			}
		})
	}
}
