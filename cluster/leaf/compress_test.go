package leaf_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klauspost/compress/s2"

	"natsd.dev/cluster/leaf"
	"natsd.dev/server"
	"natsd.dev/server/servertest"
)

// slowRTTs puts s2_auto's first threshold far above any round trip a
// loaded machine measures, so the level s2_auto picks is always the
// lowest (s2_uncompressed) and tests of the negotiated modes do not
// depend on the machine's speed.
var slowRTTs = []time.Duration{time.Minute, 2 * time.Minute, 3 * time.Minute}

// TestLeafCompressionModes runs a hub and a leaf with every pairing of
// modes that matters: what each side settled on (what /leafz shows), and
// messages both ways.
func TestLeafCompressionModes(t *testing.T) {
	for _, tc := range []struct {
		name           string
		hub, leaf      string
		wantHub, wantL string
	}{
		// s2_auto both ways (the default): the level from the RTT, below
		// the first threshold: uncompressed blocks of the S2 format.
		{"default", "", "", "s2_uncompressed", "s2_uncompressed"},
		{"accept-fast", leaf.CompressionAccept, leaf.CompressionS2Fast, "s2_fast", "s2_fast"},
		{"best-accept", leaf.CompressionS2Best, leaf.CompressionAccept, "s2_best", "s2_best"},
		// Each side writes at its own level: the hub's, the leaf's
		// s2_auto from the RTT.
		{"better-auto", leaf.CompressionS2Better, "on", "s2_better", "s2_uncompressed"},
		{"hub-off", leaf.CompressionOff, "", "off", "off"},
		{"leaf-off", "", leaf.CompressionOff, "off", "off"},
		{"accept-accept", leaf.CompressionAccept, leaf.CompressionAccept, "off", "off"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hs, hub, _ := startHub(t, server.Options{}, leaf.Options{Compression: leaf.Compression{Mode: tc.hub, RTTThresholds: slowRTTs}})
			lo := remoteTo(hub, nil)
			lo.Remotes[0].Compression = leaf.Compression{Mode: tc.leaf, RTTThresholds: slowRTTs}
			ls, spoke, _ := startLeaf(t, server.Options{}, lo)
			waitConns(t, hub, 1)
			waitConns(t, spoke, 1)
			servertest.WaitUntil(t, "both sides ready", func() bool {
				return len(leaf.Compressions(hub)) == 1 && len(leaf.Compressions(spoke)) == 1
			})
			if got := leaf.Compressions(hub); !slices.Equal(got, []string{tc.wantHub}) {
				t.Errorf("hub: %v, want %s", got, tc.wantHub)
			}
			if got := leaf.Compressions(spoke); !slices.Equal(got, []string{tc.wantL}) {
				t.Errorf("leaf: %v, want %s", got, tc.wantL)
			}
			checkFlowBothWays(t, hs, ls)
		})
	}
}

// countingDialer counts the bytes a leaf writes to its hub.
type countingDialer struct{ out atomic.Int64 }

func (d *countingDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	nc, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: nc, out: &d.out}, nil
}

type countingConn struct {
	net.Conn
	out *atomic.Int64
}

func (c *countingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.out.Add(int64(n))
	return n, err
}

// TestLeafCompressionOnTheWire: with s2_fast, a compressible megabyte
// from the leaf takes a fraction of it on the wire; with compression off
// it takes all of it.
func TestLeafCompressionOnTheWire(t *testing.T) {
	payload := bytes.Repeat([]byte("orders.eu.paris {\"qty\":3,\"status\":\"open\"} "), (1<<20)/42)
	for _, mode := range []string{leaf.CompressionS2Fast, leaf.CompressionOff} {
		t.Run(mode, func(t *testing.T) {
			hs, hub, _ := startHub(t, server.Options{MaxPayload: 2 << 20}, leaf.Options{Compression: leaf.Compression{Mode: leaf.CompressionAccept}})
			d := &countingDialer{}
			lo := remoteTo(hub, nil)
			lo.Remotes[0].Compression.Mode = mode
			lo.Dialer = d
			ls, spoke, _ := startLeaf(t, server.Options{MaxPayload: 2 << 20}, lo)
			waitConns(t, spoke, 1)
			ll := servertest.WatchInterest(t, ls)
			sub := syncSub(t, servertest.Connect(t, hs), "big")
			ll.WaitFor(t, "big", server.ConnLeaf, true)
			before := d.out.Load()
			if err := servertest.Connect(t, ls).Publish("big", payload); err != nil {
				t.Fatal(err)
			}
			if m := nextMsg(t, sub); !bytes.Equal(m.Data, payload) {
				t.Fatalf("hub got %d bytes", len(m.Data))
			}
			sent := d.out.Load() - before
			switch {
			case mode == leaf.CompressionOff && sent < int64(len(payload)):
				t.Fatalf("uncompressed: %d bytes on the wire for %d", sent, len(payload))
			case mode != leaf.CompressionOff && sent > int64(len(payload))/10:
				t.Fatalf("s2_fast: %d bytes on the wire for %d", sent, len(payload))
			}
		})
	}
}

// A hub that announces no compression (a server older than 2.10, or one
// configured "not supported") gets the CONNECT at once, which says so;
// one that announces s2_auto gets the leaf's compression INFO first,
// uncompressed, then S2.
func TestLeafCompressionScriptedHub(t *testing.T) {
	for _, announce := range []string{"", "s2_auto", "zstd"} {
		t.Run("hub="+announce, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			startLeaf(t, server.Options{}, leaf.Options{Remotes: []*leaf.Remote{{
				URLs: []*url.URL{{Scheme: "nats-leaf", Host: ln.Addr().String()}},
			}}})
			nc, err := ln.Accept()
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			nc.SetDeadline(time.Now().Add(servertest.DefaultWait))
			info := map[string]any{"server_id": "HUB", "client_id": 7, "leafnode_urls": []string{"127.0.0.1:1"}}
			if announce != "" {
				info["compression"] = announce
			}
			b, _ := json.Marshal(info)
			if _, err := nc.Write([]byte("INFO " + string(b) + "\r\n")); err != nil {
				t.Fatal(err)
			}
			br := bufio.NewReader(nc)
			line, err := br.ReadString('\n')
			if err != nil {
				t.Fatal(err)
			}
			if announce == "zstd" {
				if line != "-ERR 'unsupported route compression mode \"zstd\"'\r\n" {
					t.Fatalf("first line %q, want upstream's -ERR", line)
				}
				return
			}
			if announce == "" {
				arg, ok := strings.CutPrefix(line, "CONNECT ")
				if !ok || !strings.Contains(arg, `"compress_mode":"not supported"`) {
					t.Fatalf("first line %q, want CONNECT with compress_mode not supported", line)
				}
				return
			}
			arg, ok := strings.CutPrefix(line, "INFO ")
			if !ok || !strings.Contains(arg, `"compression":"s2_auto"`) {
				t.Fatalf("first line %q, want the compression INFO", line)
			}
			// From here both ways are S2 streams: our INFO again, then the
			// leaf's CONNECT.
			w := s2.NewWriter(nc)
			w.Write([]byte("INFO " + string(b) + "\r\n"))
			w.Flush()
			zr := bufio.NewReader(s2.NewReader(br))
			line, err = zr.ReadString('\n')
			if err != nil {
				t.Fatalf("reading the compressed CONNECT: %v", err)
			}
			if arg, ok := strings.CutPrefix(line, "CONNECT "); !ok || !strings.Contains(arg, `"compress_mode":"s2_uncompressed"`) {
				t.Fatalf("compressed line %q, want CONNECT with compress_mode s2_uncompressed", line)
			}
		})
	}
}

// TestLeafCompressionBadMode: modes upstream refuses are refused at start.
func TestLeafCompressionBadMode(t *testing.T) {
	s := servertest.Start(t, server.Options{})
	if _, err := leaf.Start(s, &leaf.Options{Compression: leaf.Compression{Mode: "zstd"}}); err == nil {
		t.Fatal("started with compression zstd")
	}
	u := &url.URL{Scheme: "nats-leaf", Host: "127.0.0.1:1"}
	if _, err := leaf.Start(s, &leaf.Options{Remotes: []*leaf.Remote{{URLs: []*url.URL{u},
		Compression: leaf.Compression{Mode: "s2_auto", RTTThresholds: []time.Duration{50 * time.Millisecond, 10 * time.Millisecond}}}}}); err == nil {
		t.Fatal("started with descending RTT thresholds")
	}
}

// TestLeafCompressionAutoThresholds: s2_auto picks its level from the
// RTT against the configured thresholds; thresholds below any real RTT
// give s2_best on both sides.
func TestLeafCompressionAutoThresholds(t *testing.T) {
	tiny := leaf.Compression{Mode: leaf.CompressionS2Auto, RTTThresholds: []time.Duration{1, 2, 3}}
	hs, hub, _ := startHub(t, server.Options{}, leaf.Options{Compression: tiny})
	lo := remoteTo(hub, nil)
	lo.Remotes[0].Compression = tiny
	ls, spoke, _ := startLeaf(t, server.Options{}, lo)
	servertest.WaitUntil(t, "both sides ready", func() bool {
		return len(leaf.Compressions(hub)) == 1 && len(leaf.Compressions(spoke)) == 1
	})
	if h, l := leaf.Compressions(hub)[0], leaf.Compressions(spoke)[0]; h != "s2_best" || l != "s2_best" {
		t.Fatalf("hub %s, leaf %s; want s2_best", h, l)
	}
	checkFlowBothWays(t, hs, ls)
}

// A hub refuses a leaf node's compression offer with a mode it does not
// know with upstream's error; a raw peer that sends its CONNECT at once
// (no offer) is served uncompressed.
func TestLeafCompressionHubOffers(t *testing.T) {
	_, hub, _ := startHub(t, server.Options{}, leaf.Options{})
	rc := servertest.DialRaw(t, hub.Addr().String())
	rc.ReadUntil(`"compression":"s2_auto"`)
	rc.Send(`INFO {"server_id":"X","compression":"zstd"}` + "\r\n")
	rc.ReadUntil(`-ERR 'unsupported route compression mode "zstd"'`)
	rc.ExpectClosed()

	plain := servertest.DialRaw(t, hub.Addr().String())
	plain.ReadUntil("INFO ")
	plain.Send(`CONNECT {"name":"peer","remote_account":"$G","compress_mode":"not supported"}` + "\r\nPING\r\n")
	plain.ReadUntil("PONG")
	servertest.WaitUntil(t, "the peer ready", func() bool { return len(leaf.Compressions(hub)) == 1 })
	if got := leaf.Compressions(hub)[0]; got != "not supported" {
		t.Fatalf("hub shows %q", got)
	}
}
