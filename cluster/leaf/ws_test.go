package leaf_test

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"natsd.dev/cluster/leaf"
	"natsd.dev/server"
	"natsd.dev/server/servertest"
	"natsd.dev/websocket"
)

// wsHub is a hub's websocket port as the command runs it: a
// websocket.Listener handing the connections upgraded on /leafnode to
// Leaf.AcceptWebsocket (what wsserver.Options.Leaf does), unmasked frames
// allowed there when asked.
type wsHub struct {
	l   *websocket.Listener
	url string // ws:// or wss://

	mu    sync.Mutex
	conns []*websocket.Conn // accepted, for the tests' checks
}

func startWSHub(t testing.TB, hub *leaf.Leaf, compress bool, tlsConfig *tls.Config) *wsHub {
	t.Helper()
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	scheme := "ws"
	if tlsConfig != nil {
		inner = tls.NewListener(inner, tlsConfig)
		scheme = "wss"
	}
	l, err := websocket.NewListener(inner, websocket.Config{
		Compression:    compress,
		AllowNoMasking: func(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/leafnode") },
	})
	if err != nil {
		t.Fatal(err)
	}
	h := &wsHub{l: l, url: scheme + "://" + inner.Addr().String()}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			nc, err := l.Accept()
			if err != nil {
				return
			}
			wc := nc.(*websocket.Conn)
			h.mu.Lock()
			h.conns = append(h.conns, wc)
			h.mu.Unlock()
			if !strings.HasPrefix(wc.Request().URL.Path, "/leafnode") {
				wc.Close()
				continue
			}
			hub.AcceptWebsocket(wc)
		}
	}()
	t.Cleanup(func() {
		l.Close()
		<-done
	})
	return h
}

// last is the connection accepted last.
func (h *wsHub) last() *websocket.Conn {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.conns[len(h.conns)-1]
}

// checkFlowBothWays checks messages from the hub to the leaf and back.
func checkFlowBothWays(t *testing.T, hs, ls *server.Server) {
	t.Helper()
	checkFlow(t, hs, ls)
	ll := servertest.WatchInterest(t, ls)
	sub := syncSub(t, servertest.Connect(t, hs), "up")
	ll.WaitFor(t, "up", server.ConnLeaf, true)
	big := strings.Repeat("payload ", 8<<10) // 64 KiB: several frames, compressed
	if err := servertest.Connect(t, ls).Publish("up", []byte(big)); err != nil {
		t.Fatal(err)
	}
	if m := nextMsg(t, sub); string(m.Data) != big {
		t.Fatalf("hub got %d bytes", len(m.Data))
	}
}

// A leaf node over ws:// and wss://, with ws_compression and
// ws_no_masking, pub/sub both ways.
func TestLeafWebsocket(t *testing.T) {
	p := servertest.NewPKI(t)
	for _, tc := range []struct {
		name                    string
		tls                     bool
		srvCompress, compress   bool
		noMasking               bool
		wantCompress, wantNoMsk bool
	}{
		{name: "ws"},
		{name: "compression", srvCompress: true, compress: true, wantCompress: true},
		{name: "compression-refused", compress: true},
		{name: "no-masking", noMasking: true, wantNoMsk: true},
		{name: "wss", tls: true, srvCompress: true, compress: true, noMasking: true, wantCompress: true, wantNoMsk: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hs, hub, _ := startHub(t, server.Options{}, leaf.Options{})
			var srvTLS, cliTLS *tls.Config
			if tc.tls {
				srvTLS, cliTLS = p.ServerConfig(false), p.ClientConfig()
			}
			wh := startWSHub(t, hub, tc.srvCompress, srvTLS)
			u, err := url.Parse(wh.url)
			if err != nil {
				t.Fatal(err)
			}
			ls, spoke, logs := startLeaf(t, server.Options{}, leaf.Options{Remotes: []*leaf.Remote{{
				URLs: []*url.URL{u}, TLS: tc.tls, TLSConfig: cliTLS,
				WSCompression: tc.compress, WSNoMasking: tc.noMasking,
			}}})
			waitConns(t, spoke, 1)
			waitConns(t, hub, 1)
			sc := wh.last()
			if sc.Request().URL.Path != "/leafnode" {
				t.Fatalf("upgraded on %q", sc.Request().URL.Path)
			}
			if sc.Compressed() != tc.wantCompress {
				t.Fatalf("compressed %v", sc.Compressed())
			}
			wantLog := "Leafnode compression=" + map[bool]string{false: "false", true: "true"}[tc.wantCompress] +
				" masking=" + map[bool]string{false: "true", true: "false"}[tc.wantNoMsk]
			logs.WaitFor(t, wantLog)
			checkFlowBothWays(t, hs, ls)
		})
	}
}

// A WebSocket leaf node authenticates with the URL's user and password
// (which stay out of the upgrade request) and binds to the user's
// account; wrong ones get upstream's refusal, as over TCP.
func TestLeafWebsocketAuthorization(t *testing.T) {
	so := server.Options{Accounts: []string{"A"}}
	hs, hub, hlogs := startHub(t, so, leaf.Options{Username: "leaf", Password: "s3cret", Account: "A"})
	wh := startWSHub(t, hub, false, nil)
	wsURL := func(ui *url.Userinfo) leaf.Options {
		u, _ := url.Parse(wh.url)
		u.User = ui
		return leaf.Options{Remotes: []*leaf.Remote{{URLs: []*url.URL{u}, WSNoMasking: true}}}
	}
	_, _, blogs := startLeaf(t, server.Options{}, wsURL(url.UserPassword("leaf", "wrong")))
	blogs.WaitFor(t, "Leafnode Error 'Authorization Violation'")
	hlogs.WaitFor(t, `authentication error - User "leaf"`)

	ls, spoke, _ := startLeaf(t, server.Options{}, wsURL(url.UserPassword("leaf", "s3cret")))
	waitConns(t, spoke, 1)
	if req := wh.last().Request(); req.URL.User != nil || req.Header.Get("Authorization") != "" {
		t.Fatalf("credentials in the upgrade request: %v %v", req.URL, req.Header)
	}
	hl := servertest.WatchInterest(t, hs)
	syncSub(t, servertest.Connect(t, ls), "acc.a")
	if ev := hl.WaitFor(t, "acc.a", server.ConnLeaf, true); ev.Account != "A" {
		t.Fatalf("the leaf's interest is in account %q, want A", ev.Account)
	}
}

// A peer on /leafnode that breaks the WebSocket protocol (an unmasked
// frame it did not ask for, garbage) is closed by the transport with
// 1002; the hub's leaf nodes go on.
func TestLeafWebsocketBadPeer(t *testing.T) {
	hs, hub, _ := startHub(t, server.Options{}, leaf.Options{})
	wh := startWSHub(t, hub, false, nil)
	u, _ := url.Parse(wh.url)
	nc, err := net.DialTimeout("tcp", u.Host, servertest.DefaultWait)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(servertest.DefaultWait))
	io.WriteString(nc, "GET /leafnode HTTP/1.1\r\nHost: "+u.Host+"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
	br := bufio.NewReader(nc)
	if resp, err := http.ReadResponse(br, nil); err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade: %v", err)
	}
	io.WriteString(nc, "\x82\x05hello") // unmasked, not allowed
	// The transport answers with a close frame 1002, then closes.
	rest, _ := io.ReadAll(br)
	if !bytes.Contains(rest, []byte{0x88}) || !bytes.Contains(rest, []byte{0x03, 0xea}) {
		t.Fatalf("after the bad frame: %q", rest)
	}
	servertest.WaitUntil(t, "no leaf connection left", func() bool { return hub.NumConnections() == 0 })
	// A good leaf node still connects.
	ls, spoke, _ := startLeaf(t, server.Options{}, leaf.Options{Remotes: []*leaf.Remote{{URLs: []*url.URL{u}}}})
	waitConns(t, spoke, 1)
	checkFlow(t, hs, ls)
}
