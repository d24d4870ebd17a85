package leaf_test

import (
	"fmt"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nkeys"

	"natsd.dev/cluster/leaf"
	"natsd.dev/server"
	"natsd.dev/server/servertest"
	"natsd.dev/server/snapshot"
)

// checkFlow checks that a message crosses from the hub to the leaf.
func checkFlow(t *testing.T, hs, ls *server.Server) {
	t.Helper()
	hl := servertest.WatchInterest(t, hs)
	sub := syncSub(t, servertest.Connect(t, ls), "flow")
	hl.WaitFor(t, "flow", server.ConnLeaf, true)
	if err := servertest.Connect(t, hs).Publish("flow", []byte("ok")); err != nil {
		t.Fatal(err)
	}
	nextMsg(t, sub)
}

// TLS after INFO (upstream's default), with a tls:// remote URL and
// mutual verification; and TLS first on both sides.
func TestLeafTLS(t *testing.T) {
	p := servertest.NewPKI(t)
	for _, first := range []bool{false, true} {
		t.Run(map[bool]string{false: "AfterInfo", true: "HandshakeFirst"}[first], func(t *testing.T) {
			hs, hub, _ := startHub(t, server.Options{}, leaf.Options{TLSConfig: p.MutualConfig(), TLSHandshakeFirst: first})
			u := &url.URL{Scheme: "tls", Host: hub.Addr().String()}
			ls, spoke, _ := startLeaf(t, server.Options{}, leaf.Options{Remotes: []*leaf.Remote{{
				URLs: []*url.URL{u}, TLSConfig: p.ClientConfig(p.Server), TLSHandshakeFirst: first,
			}}})
			waitConns(t, spoke, 1)
			checkFlow(t, hs, ls)
		})
	}
}

// A remote without a certificate is refused by a hub that verifies;
// a connection that never handshakes is closed after the TLS timeout.
func TestLeafTLSRefusedAndTimeout(t *testing.T) {
	p := servertest.NewPKI(t)
	_, hub, hlogs := startHub(t, server.Options{}, leaf.Options{TLSConfig: p.ServerConfig(true), TLSTimeout: 200 * time.Millisecond})
	_, spoke, _ := startLeaf(t, server.Options{}, leaf.Options{Remotes: []*leaf.Remote{{
		URLs: []*url.URL{{Scheme: "tls", Host: hub.Addr().String()}}, TLSConfig: p.ClientConfig(),
	}}})
	hlogs.WaitFor(t, "TLS leafnode handshake error")
	if spoke.NumConnections() != 0 {
		t.Fatal("a remote without a certificate connected")
	}
	raw, err := net.Dial("tcp", hub.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	raw.SetReadDeadline(time.Now().Add(servertest.DefaultWait))
	buf := make([]byte, 4096)
	n, _ := raw.Read(buf)
	if !strings.HasPrefix(string(buf[:n]), "INFO ") || !strings.Contains(string(buf[:n]), `"tls_required":true`) {
		t.Fatalf("the hub's first bytes %q, want its INFO with tls_required", buf[:n])
	}
	// The hub closes the connection once the TLS timeout passed.
	for {
		_, err := raw.Read(buf)
		if err == nil {
			continue
		}
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatal("the hub kept a connection that never handshook")
		}
		break
	}
}

// first_info_timeout: a hub that sends nothing is given up on and dialed
// again; a remote that dials a client port is refused as the wrong port.
func TestLeafFirstInfoTimeoutAndWrongPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 16)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	_, _, logs := startLeaf(t, server.Options{}, leaf.Options{Remotes: []*leaf.Remote{{
		URLs: []*url.URL{{Scheme: "nats-leaf", Host: ln.Addr().String()}}, FirstInfoTimeout: 100 * time.Millisecond,
	}}})
	logs.WaitFor(t, "Error reading the hub's INFO")
	for range 2 { // dialed again after giving up
		select {
		case c := <-accepted:
			defer c.Close()
		case <-time.After(servertest.DefaultWait):
			t.Fatal("the remote did not dial again")
		}
	}

	cs := servertest.Start(t, server.Options{})
	_, _, wlogs := startLeaf(t, server.Options{}, leaf.Options{Remotes: []*leaf.Remote{{
		URLs: []*url.URL{{Scheme: "nats-leaf", Host: cs.Addr().String()}},
	}}})
	wlogs.WaitFor(t, "attempted to connect to wrong port")
}

// A remote with an nkey seed signs the hub's nonce and binds to the
// account of the hub's nkey user.
func TestLeafNkeyAuth(t *testing.T) {
	kp, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := kp.PublicKey()
	seed, _ := kp.Seed()
	so := optionsFrom(t, `accounts { NK: { users: [ { nkey: `+pub+` } ] } }`)
	hs, hub, _ := startHub(t, so, leaf.Options{})
	ls, spoke, _ := startLeaf(t, server.Options{}, leaf.Options{Remotes: []*leaf.Remote{{
		URLs: []*url.URL{leafURL(hub, nil)}, Nkey: string(seed),
	}}})
	waitConns(t, spoke, 1)
	hl := servertest.WatchInterest(t, hs)
	syncSub(t, servertest.Connect(t, ls), "nk.sub")
	if ev := hl.WaitFor(t, "nk.sub", server.ConnLeaf, true); ev.Account != "NK" {
		t.Fatalf("interest in account %q, want NK", ev.Account)
	}
}

// A client that dials the leaf node port is refused with upstream's
// error.
func TestLeafClientOnLeafPort(t *testing.T) {
	_, hub, hlogs := startHub(t, server.Options{}, leaf.Options{})
	rc := servertest.DialRaw(t, hub.Addr().String())
	rc.Send(`CONNECT {"lang":"go","verbose":false}` + "\r\n")
	rc.ReadUntil("-ERR 'attempted to connect to leaf node port'")
	rc.ExpectClosed()
	hlogs.WaitFor(t, "Leafnode connection closed: Wrong Port")
}

// A peer that never sends CONNECT is closed after the authorization
// timeout; one that sends an LMSG over max_payload after its CONNECT is
// closed with upstream's error; a second connection from the same server
// and account replaces the first.
func TestLeafBadPeers(t *testing.T) {
	_, hub, hlogs := startHub(t, server.Options{MaxPayload: 1024}, leaf.Options{AuthTimeout: 100 * time.Millisecond})
	rc := servertest.DialRaw(t, hub.Addr().String())
	rc.ReadUntil("INFO ")
	rc.ReadUntil("-ERR 'Authentication Timeout'")
	rc.ExpectClosed()
	hlogs.WaitFor(t, "Leafnode connection closed: Authentication Timeout")

	connect := `CONNECT {"name":"peer","remote_account":"$G"}` + "\r\n"
	big := servertest.DialRaw(t, hub.Addr().String())
	big.Send(connect + "LMSG foo 2048\r\n")
	big.ReadUntil("-ERR 'Maximum Payload Violation'")
	big.ExpectClosed()

	first := servertest.DialRaw(t, hub.Addr().String())
	first.Send(connect)
	first.ReadUntil(`"connect_info":true`)
	second := servertest.DialRaw(t, hub.Addr().String())
	second.Send(connect)
	second.ReadUntil(`"connect_info":true`)
	first.ReadUntil("-ERR 'Duplicate Remote LeafNode Connection'")
	first.ExpectClosed()
	hlogs.WaitFor(t, "Replacing connection from same server")
}

// Thousands of LS+ in a burst are all registered: the last one's subject
// gets its message.
func TestLeafSubscriptionBurst(t *testing.T) {
	hs, hub, _ := startHub(t, server.Options{}, leaf.Options{})
	rc := servertest.DialRaw(t, hub.Addr().String())
	var b strings.Builder
	b.WriteString(`CONNECT {"name":"burst","remote_account":"$G"}` + "\r\n")
	const n = 5000
	for i := range n {
		fmt.Fprintf(&b, "LS+ burst.%d\r\n", i)
	}
	b.WriteString("PING\r\n")
	rc.Send(b.String())
	rc.ReadUntil("PONG")
	if err := servertest.Connect(t, hs).Publish(fmt.Sprintf("burst.%d", n-1), []byte("last")); err != nil {
		t.Fatal(err)
	}
	rc.ReadUntil(fmt.Sprintf("LMSG burst.%d 4", n-1))
}

// A peer that stops answering PINGs is closed as stale, with upstream's
// error.
func TestLeafStalePeer(t *testing.T) {
	_, hub, hlogs := startHub(t, server.Options{PingInterval: 50 * time.Millisecond, MaxPingsOut: 2}, leaf.Options{})
	rc := servertest.DialRaw(t, hub.Addr().String())
	rc.Send(`CONNECT {"name":"quiet","remote_account":"$G"}` + "\r\n")
	rc.ReadUntil("PING")
	rc.ReadUntil("-ERR 'Stale Connection'")
	rc.ExpectClosed()
	hlogs.WaitFor(t, "Leafnode connection closed: Stale Connection")
}

// tls { verify_and_map }: the remote's certificate names the leafnodes
// authorization user (its e-mail address here), whose account the
// connection binds to, whatever CONNECT says; a certificate naming no
// user is refused. Without leafnodes users, it names one of the server's.
func TestLeafTLSVerifyAndMap(t *testing.T) {
	p := servertest.NewPKI(t)
	hs, hub, hlogs := startHub(t, server.Options{Accounts: []string{"A"}}, leaf.Options{
		TLSConfig: p.MutualConfig(), TLSMap: true,
		Users: []leaf.User{{Username: "edge@example.com", Account: "A"}},
	})
	u := &url.URL{Scheme: "tls", Host: hub.Addr().String(), User: url.UserPassword("wrong", "wrong")}
	_, spoke, _ := startLeaf(t, server.Options{}, leaf.Options{Remotes: []*leaf.Remote{{
		URLs: []*url.URL{u}, TLSConfig: p.ClientConfig(p.Client("edge", "edge@example.com")),
	}}})
	waitConns(t, spoke, 1)
	waitConns(t, hub, 1)
	hlogs.WaitFor(t, `User "wrong" found in connect proto, but user required from cert`)
	d, _ := hs.Snapshot(server.KindLeafz, nil)
	if lz := d.(*snapshot.Leafz); lz.NumLeafs != 1 || lz.Leafs[0].Account != "A" {
		t.Fatalf("leafz: %+v", lz)
	}

	_, other, ologs := startLeaf(t, server.Options{}, leaf.Options{Remotes: []*leaf.Remote{{
		URLs: []*url.URL{{Scheme: "tls", Host: hub.Addr().String()}}, TLSConfig: p.ClientConfig(p.Client("nobody", "nobody@example.com")),
	}}})
	ologs.WaitFor(t, "Authorization Violation")
	if other.NumConnections() != 0 {
		t.Fatal("a certificate naming no user connected")
	}

	so := optionsFrom(t, `accounts { B: { users: [ { user: "edge@example.com" } ] } }`)
	hs2, hub2, _ := startHub(t, so, leaf.Options{TLSConfig: p.MutualConfig(), TLSMap: true})
	_, spoke2, _ := startLeaf(t, server.Options{}, leaf.Options{Remotes: []*leaf.Remote{{
		URLs: []*url.URL{{Scheme: "tls", Host: hub2.Addr().String()}}, TLSConfig: p.ClientConfig(p.Client("edge", "edge@example.com")),
	}}})
	waitConns(t, spoke2, 1)
	waitConns(t, hub2, 1)
	d, _ = hs2.Snapshot(server.KindLeafz, nil)
	if lz := d.(*snapshot.Leafz); lz.NumLeafs != 1 || lz.Leafs[0].Account != "B" {
		t.Fatalf("leafz with the server's users: %+v", lz)
	}
}

// A reload gives a remote its new tls {} block for the next handshakes:
// a remote refused for want of a client certificate connects once the
// reload gives it one.
func TestReloadRemoteTLS(t *testing.T) {
	p := servertest.NewPKI(t)
	_, hub, hlogs := startHub(t, server.Options{}, leaf.Options{TLSConfig: p.MutualConfig()})
	u := &url.URL{Scheme: "tls", Host: hub.Addr().String()}
	_, spoke, _ := startLeaf(t, server.Options{}, leaf.Options{Remotes: []*leaf.Remote{{URLs: []*url.URL{u}, TLSConfig: p.ClientConfig()}}})
	hlogs.WaitFor(t, "TLS leafnode handshake error")
	ch, err := spoke.Reload(&leaf.Options{Reconnect: 50 * time.Millisecond, Remotes: []*leaf.Remote{{URLs: []*url.URL{u}, TLSConfig: p.ClientConfig(p.Server)}}})
	if err != nil || len(ch) != 0 {
		t.Fatalf("reload: %v %v", ch, err)
	}
	waitConns(t, spoke, 1)
}
