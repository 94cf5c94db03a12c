package config

// Pull policies of docker.pull-policy.*: when the Docker factory pulls an
// image before it creates a container from it.
const (
	// PullMissing pulls an image the engine does not have, once.
	PullMissing = "missing"
	// PullAlways pulls before every container creation, as OpenWhisk does
	// for blackbox images: a moving tag such as latest is followed.
	PullAlways = "always"
	// PullNever never pulls: an image must be on the host already.
	PullNever = "never"
)

// PullPolicies says when images are pulled, for the runtimes manifest's
// kinds and for the images of blackbox actions apart. Stemcell's own
// runtime image is built locally and never pulled.
type PullPolicies struct {
	Runtimes   string `koanf:"runtimes"`    // default PullMissing
	UserImages string `koanf:"user-images"` // default PullAlways, as OpenWhisk
}

func (p *PullPolicies) validate(k string, errs *Errors) {
	for _, v := range []struct{ key, value string }{{"runtimes", p.Runtimes}, {"user-images", p.UserImages}} {
		switch v.value {
		case PullMissing, PullAlways, PullNever:
		default:
			errs.invalid(k+"."+v.key, v.value, "must be "+PullMissing+", "+PullAlways+" or "+PullNever)
		}
	}
}
