package leaf_test

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"natsd.dev/cluster/leaf"
	"natsd.dev/server"
	"natsd.dev/server/servertest"
)

// TestLeafWebsocketToUpstreamHub connects a natsd leaf node over ws:// to
// the websocket port of an upstream nats-server hub (NATSD_UPSTREAM_SERVER),
// with ws_compression and ws_no_masking on and off and the leaf's default
// S2 compression (s2_auto on both sides), and runs messages both ways.
func TestLeafWebsocketToUpstreamHub(t *testing.T) {
	bin := servertest.UpstreamBinary(t)
	for _, tc := range []struct {
		name               string
		wsCompress, noMask bool
		leafComp, hubComp  string
	}{
		{name: "plain"},
		{name: "ws-compression-no-masking", wsCompress: true, noMask: true},
		{name: "s2-off", leafComp: leaf.CompressionOff, hubComp: "off"},
		{name: "s2-fast", leafComp: leaf.CompressionS2Fast, hubComp: "accept"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ports := servertest.FreePorts(t, 3)
			conf := fmt.Sprintf(`
listen: "127.0.0.1:%d"
leafnodes { listen: "127.0.0.1:%d"%s }
websocket { listen: "127.0.0.1:%d", no_tls: true, compression: true }
`, ports[0], ports[1], compressionLine(tc.hubComp), ports[2])
			path := filepath.Join(t.TempDir(), "hub.conf")
			if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
				t.Fatal(err)
			}
			servertest.StartProcess(t, bin, "-c", path)
			hubURL := fmt.Sprintf("nats://127.0.0.1:%d", ports[0])
			hc := servertest.ConnectWhenReady(t, hubURL)

			u := &url.URL{Scheme: "ws", Host: fmt.Sprintf("127.0.0.1:%d", ports[2])}
			ls, spoke, logs := startLeaf(t, server.Options{}, leaf.Options{Remotes: []*leaf.Remote{{
				URLs: []*url.URL{u}, WSCompression: tc.wsCompress, WSNoMasking: tc.noMask,
				Compression: leaf.Compression{Mode: tc.leafComp, RTTThresholds: slowRTTs},
			}}})
			waitConns(t, spoke, 1)
			wantLog := fmt.Sprintf("Leafnode compression=%v masking=%v", tc.wsCompress, !tc.noMask)
			logs.WaitFor(t, wantLog)
			servertest.WaitUntil(t, "the leaf ready", func() bool { return len(leaf.Compressions(spoke)) == 1 })
			// Over permessage-deflate there is no S2: off, as upstream's
			// leaf nodes say.
			want := map[string]string{"": "s2_uncompressed", "off": "off", "s2_fast": "s2_fast"}[tc.leafComp]
			if tc.wsCompress {
				want = "off"
			}
			if got := leaf.Compressions(spoke)[0]; got != want {
				t.Fatalf("leaf compression %q, want %q", got, want)
			}

			// Hub to leaf.
			lc := servertest.Connect(t, ls)
			sub := syncSub(t, lc, "down")
			servertest.WaitUntil(t, "the hub sees the leaf's interest", func() bool {
				return hc.Publish("down", []byte("probe")) == nil && hc.Flush() == nil && probe(sub)
			})
			if err := hc.Publish("down", []byte("to leaf")); err != nil {
				t.Fatal(err)
			}
			for {
				m := nextMsg(t, sub)
				if string(m.Data) == "to leaf" {
					break
				}
			}
			// Leaf to hub, a large compressible payload.
			hsub := syncSub(t, hc, "up")
			big := strings.Repeat("payload ", 8<<10)
			servertest.WaitUntil(t, "the leaf sees the hub's interest", func() bool {
				return lc.Publish("up", []byte("probe")) == nil && lc.Flush() == nil && probe(hsub)
			})
			if err := lc.Publish("up", []byte(big)); err != nil {
				t.Fatal(err)
			}
			for {
				m := nextMsg(t, hsub)
				if string(m.Data) == big {
					break
				}
			}
		})
	}
}

// probe reports whether a message came within a moment.
func probe(sub *nats.Subscription) bool {
	_, err := sub.NextMsg(50 * time.Millisecond)
	return err == nil
}

func compressionLine(mode string) string {
	if mode == "" {
		return ""
	}
	return ", compression: " + mode
}

// TestLeafWebsocketUpstreamLeaf connects an upstream leaf node over ws://
// to a natsd hub's websocket port (with and without ws_compression and
// ws_no_masking, and the default S2 compression beneath the framing), and
// runs messages both ways.
func TestLeafWebsocketUpstreamLeaf(t *testing.T) {
	bin := servertest.UpstreamBinary(t)
	for _, tc := range []struct {
		name               string
		wsCompress, noMask bool
		want               string
	}{
		{name: "plain", want: "s2_uncompressed"},
		{name: "no-masking", noMask: true, want: "s2_uncompressed"},
		// Over permessage-deflate neither side starts S2: the
		// leaf says off.
		{name: "ws-compression", wsCompress: true, want: "off"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hs, hub, _ := startHub(t, server.Options{}, leaf.Options{Compression: leaf.Compression{RTTThresholds: slowRTTs}})
			wh := startWSHub(t, hub, true, nil)
			port := servertest.FreePorts(t, 1)[0]
			servertest.StartProcess(t, bin, "-c", writeConf(t, fmt.Sprintf(
				"listen: \"127.0.0.1:%d\"\nleafnodes { remotes [ { url: %q, ws_compression: %v, ws_no_masking: %v } ] }\n",
				port, wh.url, tc.wsCompress, tc.noMask)))
			lc := servertest.ConnectWhenReady(t, fmt.Sprintf("nats://127.0.0.1:%d", port))
			servertest.WaitUntil(t, "the hub ready", func() bool { return len(leaf.Compressions(hub)) == 1 })
			if got := leaf.Compressions(hub)[0]; got != tc.want {
				t.Fatalf("hub compression %q, want %q", got, tc.want)
			}
			if sc := wh.last(); sc.Compressed() != tc.wsCompress {
				t.Fatalf("permessage-deflate %v", sc.Compressed())
			}
			exchange(t, servertest.Connect(t, hs), lc)
		})
	}
}
