package config

import "strings"

// BuiltIn reports whether the kind runs on Stemcell's own runtime image
// (RuntimeImage's repository, any tag, as the Docker factory builds it):
// JavaScript on goja, one file without modules. The server refuses at
// create code of such a kind that calls require.
func (k RuntimeKind) BuiltIn() bool {
	return strings.Trim(k.Image.Prefix, "/") == RuntimeImage.Prefix && k.Image.Name == RuntimeImage.Name
}

// Family is the family name of a kind as OpenWhisk spells kinds
// ("nodejs:20" is of family "nodejs"), whether or not the manifest has it.
func Family(kind string) string {
	fam, _, _ := strings.Cut(kind, ":")
	return fam
}

// BuiltInKind returns the built-in kind of family fam, if it has one.
func (m Manifest) BuiltInKind(fam string) (RuntimeKind, bool) {
	for _, k := range m.Runtimes[fam] {
		if k.BuiltIn() {
			return k, true
		}
	}
	return RuntimeKind{}, false
}
