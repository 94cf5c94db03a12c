package config

import (
	"fmt"
	"sort"
	"strings"
)

// families returns the family names in a stable order.
func (m Manifest) families() []string {
	names := make([]string, 0, len(m.Runtimes))
	for f := range m.Runtimes {
		names = append(names, f)
	}
	sort.Strings(names)
	return names
}

// Validate checks every rule of reference §1.7 and returns all problems,
// each naming its path in the manifest (e.g.
// "runtimes.nodejs[0].stemCells[0].reactive.maxCount: 0 is invalid: must be > 0").
// A manifest without runtimes is valid.
func (m Manifest) Validate() error {
	var errs Errors
	seen := map[string]string{} // kind -> where it was first defined
	for _, fam := range m.families() {
		kinds := m.Runtimes[fam]
		famKey := "runtimes." + fam
		if strings.TrimSpace(fam) == "" {
			errs.invalid("runtimes", fam, "a family name must not be empty")
		}
		var defaults []string
		for i, k := range kinds {
			key := fmt.Sprintf("%s[%d]", famKey, i)
			switch {
			case k.Kind == "":
				errs.invalid(key+".kind", k.Kind, "must not be empty")
			case strings.HasSuffix(k.Kind, ":default"):
				errs.invalid(key+".kind", k.Kind, `the suffix ":default" is reserved for naming a family's default kind`)
			case seen[k.Kind] != "":
				errs.invalid(key+".kind", k.Kind, "kinds must be unique across families; already defined at "+seen[k.Kind])
			default:
				seen[k.Kind] = key
			}
			if k.Default {
				defaults = append(defaults, k.Kind)
			}
			if strings.TrimSpace(k.Image.Name) == "" {
				errs.invalid(key+".image.name", k.Image.Name, "must not be empty")
			}
			for j, sc := range k.StemCells {
				sc.validate(fmt.Sprintf("%s.stemCells[%d]", key, j), &errs)
			}
		}
		if len(defaults) != 1 {
			errs.add(&KeyError{Key: famKey, Rule: fmt.Sprintf(
				`must have exactly one kind with "default": true, has %d %v`, len(defaults), defaults)})
		}
	}
	for i, img := range m.Blackboxes {
		if strings.TrimSpace(img.Name) == "" {
			errs.invalid(fmt.Sprintf("blackboxes[%d].name", i), img.Name, "must not be empty")
		}
	}
	return errs.Err()
}

func (s StemCell) validate(key string, errs *Errors) {
	if s.InitialCount <= 0 {
		errs.invalid(key+".initialCount", s.InitialCount, "must be > 0 (initialCount, or its old name count, is required)")
	}
	if s.Memory <= 0 {
		errs.invalid(key+".memory", s.Memory, "must be > 0 (memory is required)")
	}
	r := s.Reactive
	if r == nil {
		return
	}
	key += ".reactive"
	if r.MinCount < 0 {
		errs.invalid(key+".minCount", r.MinCount, "must be >= 0")
	}
	if r.MaxCount <= 0 {
		errs.invalid(key+".maxCount", r.MaxCount, "must be > 0")
	}
	if r.MinCount > r.MaxCount {
		errs.invalid(key+".minCount", r.MinCount, fmt.Sprintf("must be <= maxCount (%d)", r.MaxCount))
	}
	if r.TTL <= 0 {
		errs.invalid(key+".ttl", r.TTL, "must be > 0 (ttl is required)")
	}
	if r.Threshold <= 0 {
		errs.invalid(key+".threshold", r.Threshold, "must be > 0")
	}
	if r.Increment <= 0 || r.Increment > r.MaxCount {
		errs.invalid(key+".increment", r.Increment, fmt.Sprintf("must be > 0 and <= maxCount (%d)", r.MaxCount))
	}
}
