package config

import "strings"

// Lists of keys the parser refuses or ignores, for the tests of package
// config_test that hold them against docs/configuration.md.
var (
	CoreUnsupportedKeys    = strings.Fields(coreUnsupported)
	CoreIgnoredKeys        = strings.Fields(coreIgnored)
	AccountUnsupportedKeys = strings.Fields(coreAccountUnsupported)
	TLSUnsupportedKeys     = keysOf(tlsUnsupported)
	ExportUnsupportedKeys  = keysOf(exportUnsupported)
)

func keysOf(m map[string]bool) (keys []string) {
	for k := range m {
		keys = append(keys, k)
	}
	return keys
}
