package server

import (
	"slices"
	"testing"
)

// TestFeatureFlagLines: the banner's feature flag lines and /varz's map,
// as upstream 2.15.2 prints and lists them for the same feature_flags
// (checked against the binary).
func TestFeatureFlagLines(t *testing.T) {
	for _, tc := range []struct {
		conf map[string]bool
		want []string
	}{
		{nil, nil},
		{map[string]bool{"js_raft_delete_range": false, "js_api_reply_v2": false, "js_ack_fc_v2": true, "zz": false, "aa": true}, []string{
			"  Feature flags:",
			"    Configured:    js_ack_fc_v2 (opt-in), js_api_reply_v2 (disabled), js_raft_delete_range (opt-out)",
			"    Unsupported:   aa, zz",
		}},
		{map[string]bool{"js_raft_delete_range": true}, []string{"  Feature flags:", "    Configured:    js_raft_delete_range (enabled)"}},
		{map[string]bool{"zz": true}, []string{"  Feature flags:", "    Configured:    none", "    Unsupported:   zz"}},
	} {
		if got := featureFlagLines(tc.conf); !slices.Equal(got, tc.want) {
			t.Errorf("featureFlagLines(%v) = %q, want %q", tc.conf, got, tc.want)
		}
	}
	ff := featureFlags(map[string]bool{"js_api_reply_v2": true, "foo": true})
	want := map[string]bool{"js_ack_fc_v2": false, "js_api_reply_v2": true, "js_raft_delete_range": true, "js_snapshot_sources": false}
	if len(ff) != len(want) {
		t.Fatalf("featureFlags = %v, want %v", ff, want)
	}
	for k, v := range want {
		if ff[k] != v {
			t.Errorf("featureFlags[%s] = %v, want %v", k, ff[k], v)
		}
	}
}
