package leaf_test

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"

	"natsd.dev/cluster/leaf"
	"natsd.dev/server"
	"natsd.dev/server/servertest"
)

// writeConf writes an upstream configuration file.
func writeConf(t *testing.T, conf string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "upstream.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// exchange checks messages both ways between a client of the hub side
// (hc) and one of the leaf side (lc), probing until interest crossed.
func exchange(t *testing.T, hc, lc *nats.Conn) {
	t.Helper()
	down := syncSub(t, lc, "down")
	servertest.WaitUntil(t, "the hub reaches the leaf", func() bool {
		return hc.Publish("down", []byte("probe")) == nil && hc.Flush() == nil && probe(down)
	})
	up := syncSub(t, hc, "up")
	big := strings.Repeat("payload ", 8<<10)
	servertest.WaitUntil(t, "the leaf reaches the hub", func() bool {
		return lc.Publish("up", []byte(big)) == nil && lc.Flush() == nil && probe(up)
	})
}

// TestLeafCompressionWithUpstream: a natsd leaf on an upstream hub and an
// upstream leaf on a natsd hub, over TCP, settle on the modes upstream's
// rules give and exchange messages.
func TestLeafCompressionWithUpstream(t *testing.T) {
	bin := servertest.UpstreamBinary(t)
	for _, tc := range []struct {
		name, hub, leaf, want string
	}{
		{"default", "", "", "s2_uncompressed"},
		{"accept-fast", "accept", "s2_fast", "s2_fast"},
		{"hub-off", "off", "", "off"},
		{"leaf-off", "", "off", "off"},
	} {
		t.Run("upstream-hub/"+tc.name, func(t *testing.T) {
			ports := servertest.FreePorts(t, 2)
			servertest.StartProcess(t, bin, "-c", writeConf(t, fmt.Sprintf(
				"listen: \"127.0.0.1:%d\"\nleafnodes { listen: \"127.0.0.1:%d\"%s }\n", ports[0], ports[1], compressionLine(tc.hub))))
			hc := servertest.ConnectWhenReady(t, fmt.Sprintf("nats://127.0.0.1:%d", ports[0]))
			u := &url.URL{Scheme: "nats-leaf", Host: fmt.Sprintf("127.0.0.1:%d", ports[1])}
			ls, spoke, _ := startLeaf(t, server.Options{}, leaf.Options{Remotes: []*leaf.Remote{{
				URLs: []*url.URL{u}, Compression: leaf.Compression{Mode: tc.leaf, RTTThresholds: slowRTTs},
			}}})
			servertest.WaitUntil(t, "the leaf ready", func() bool { return len(leaf.Compressions(spoke)) == 1 })
			if got := leaf.Compressions(spoke)[0]; got != tc.want {
				t.Fatalf("leaf compression %q, want %q", got, tc.want)
			}
			exchange(t, hc, servertest.Connect(t, ls))
		})
		t.Run("upstream-leaf/"+tc.name, func(t *testing.T) {
			hs, hub, _ := startHub(t, server.Options{}, leaf.Options{Compression: leaf.Compression{Mode: tc.hub, RTTThresholds: slowRTTs}})
			port := servertest.FreePorts(t, 1)[0]
			servertest.StartProcess(t, bin, "-c", writeConf(t, fmt.Sprintf(
				"listen: \"127.0.0.1:%d\"\nleafnodes { remotes [ { url: \"nats-leaf://%s\"%s } ] }\n", port, hub.Addr(), compressionLine(tc.leaf))))
			lc := servertest.ConnectWhenReady(t, fmt.Sprintf("nats://127.0.0.1:%d", port))
			servertest.WaitUntil(t, "the hub ready", func() bool { return len(leaf.Compressions(hub)) == 1 })
			want := tc.want
			if tc.name == "accept-fast" {
				want = "s2_fast" // the hub follows the leaf's level
			}
			if got := leaf.Compressions(hub)[0]; got != want {
				t.Fatalf("hub compression %q, want %q", got, want)
			}
			exchange(t, servertest.Connect(t, hs), lc)
		})
	}
}
