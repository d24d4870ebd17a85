package leaf_test

import (
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"natsd.dev/cluster/leaf"
	"natsd.dev/server"
	"natsd.dev/server/servertest"
)

// Reload adds a remote (it connects), disables it (its connection
// closes), enables it again and removes it; the log lines are upstream's.
func TestReloadRemotes(t *testing.T) {
	_, hub1, _ := startHub(t, server.Options{}, leaf.Options{})
	_, hub2, _ := startHub(t, server.Options{}, leaf.Options{})
	r1 := &leaf.Remote{URLs: []*url.URL{leafURL(hub1, nil)}}
	_, edge, _ := startLeaf(t, server.Options{}, leaf.Options{Remotes: []*leaf.Remote{r1}})
	waitConns(t, hub1, 1)
	o := leaf.Options{Reconnect: 50 * time.Millisecond}

	r2 := &leaf.Remote{URLs: []*url.URL{leafURL(hub2, url.UserPassword("u", "secret"))}}
	o.Remotes = []*leaf.Remote{r1, r2}
	ch, err := edge.Reload(&o)
	if err != nil || len(ch) != 1 || ch[0].Change != "added" {
		t.Fatalf("add: %v %v", ch, err)
	}
	waitConns(t, hub2, 1)
	waitConns(t, edge, 2)

	d2 := *r2
	d2.Disabled = true
	o.Remotes = []*leaf.Remote{r1, &d2}
	ch, err = edge.Reload(&o)
	if err != nil || len(ch) != 1 || ch[0].Change != "disabled" {
		t.Fatalf("disable: %v %v", ch, err)
	}
	want := `LeafNode Remote urls=["nats-leaf://u:xxxxx@` + hub2.Addr().String() + `"], account="$G" Disabled value is: true`
	if got := ch[0].String(); got != want {
		t.Errorf("log line %q, want %q", got, want)
	}
	waitConns(t, hub2, 0)
	waitConns(t, edge, 1)

	o.Remotes = []*leaf.Remote{r1, r2}
	if ch, err = edge.Reload(&o); err != nil || len(ch) != 1 || ch[0].Change != "enabled" {
		t.Fatalf("enable: %v %v", ch, err)
	}
	waitConns(t, hub2, 1)

	o.Remotes = []*leaf.Remote{r2}
	ch, err = edge.Reload(&o)
	if err != nil || len(ch) != 1 || ch[0].Change != "removed" || !strings.HasSuffix(ch[0].String(), `account="$G" removed`) {
		t.Fatalf("remove: %v %v", ch, err)
	}
	waitConns(t, hub1, 0)
	waitConns(t, edge, 1)
	if hub2.NumConnections() != 1 {
		t.Error("the remaining remote lost its connection")
	}
}

// What a reload cannot change is refused with upstream's text, and
// nothing changes.
func TestReloadRefused(t *testing.T) {
	_, hub, _ := startHub(t, server.Options{}, leaf.Options{Username: "l", Password: "p"})
	for _, tc := range []struct {
		o    leaf.Options
		want string
	}{
		{leaf.Options{Host: "127.0.0.1", Port: leaf.RandomPort}, `config reload not supported for LeafNode: field "Username": old=l, new=`},
		{leaf.Options{Host: "127.0.0.1", Port: leaf.RandomPort, Username: "l", Password: "p", AuthTimeout: 5 * time.Second}, `config reload not supported for LeafNode: field "AuthTimeout": old=2s, new=5s`},
		{leaf.Options{Host: "0.0.0.0", Port: leaf.RandomPort, Username: "l", Password: "p"}, `config reload not supported for LeafNode: field "Host": old=127.0.0.1, new=0.0.0.0`},
		{leaf.Options{Host: "127.0.0.1", Port: leaf.RandomPort, Username: "l", Password: "p", Reconnect: 5 * time.Second}, `config reload not supported for LeafNode: field "ReconnectInterval": old=1s, new=5s`},
	} {
		_, err := hub.Reload(&tc.o)
		if err == nil || err.Error() != tc.want || !errors.Is(err, leaf.ErrReloadUnsupported) {
			t.Errorf("got %v, want %s", err, tc.want)
		}
	}
	users := []leaf.User{{Username: "a", Password: "a"}, {Username: "b", Password: "b", Account: "B"}}
	if err := leaf.CheckReload(&leaf.Options{Users: users}, &leaf.Options{Users: []leaf.User{users[1], users[0]}}); err != nil {
		t.Errorf("users reordered: %v", err)
	}
	if err := leaf.CheckReload(&leaf.Options{Users: users}, &leaf.Options{Users: users[:1]}); err != nil {
		t.Errorf("a user removed: %v", err)
	}
	if err := leaf.CheckReload(&leaf.Options{Users: users}, &leaf.Options{Users: append(users, users[0])}); err == nil || err.Error() != `duplicate user "a" detected in leafnode authorization` {
		t.Errorf("a user twice: %v", err)
	}
	if err := leaf.CheckReload(&leaf.Options{Users: users}, &leaf.Options{Username: "x", Users: users}); err == nil || err.Error() != "can not have a single user/pass and a users array" {
		t.Errorf("a user and users: %v", err)
	}
	same := leaf.Options{Host: "127.0.0.1", Port: leaf.RandomPort, Username: "l", Password: "p"}
	if ch, err := hub.Reload(&same); err != nil || len(ch) != 0 {
		t.Errorf("an unchanged block: %v %v", ch, err)
	}
	if _, err := hub.Reload(&leaf.Options{Host: "127.0.0.1", Port: leaf.RandomPort, Username: "l", Password: "p",
		Remotes: []*leaf.Remote{{Account: "NOPE", URLs: []*url.URL{leafURL(hub, nil)}}}}); err == nil || !strings.Contains(err.Error(), `cannot find local account "NOPE"`) {
		t.Errorf("a remote of an unknown account: %v", err)
	}
}

// A reload of the authorization users (beyond upstream): a leaf node of
// a user removed, or whose password changed, gets 'Authorization
// Violation' and is closed; the others stay; a user added logs in.
func TestReloadUsers(t *testing.T) {
	so := optionsFrom(t, "accounts { B {} }\n")
	users := []leaf.User{{Username: "a", Password: "pa"}, {Username: "b", Password: "pb", Account: "B"}, {Username: "c", Password: "pc"}}
	_, hub, logs := startHub(t, so, leaf.Options{Users: users})
	leafAs := func(user, pass string) *leaf.Leaf {
		_, lf, _ := startLeaf(t, server.Options{}, remoteTo(hub, url.UserPassword(user, pass)))
		return lf
	}
	a, b, c := leafAs("a", "pa"), leafAs("b", "pb"), leafAs("c", "pc")
	waitConns(t, hub, 3)
	for _, l := range []*leaf.Leaf{a, b, c} {
		waitConns(t, l, 1)
	}
	o := leaf.Options{Host: "127.0.0.1", Port: leaf.RandomPort}
	// b removed, c's password changed, d added; a kept (reordered).
	o.Users = []leaf.User{{Username: "d", Password: "pd", Account: "B"}, {Username: "c", Password: "new"}, users[0]}
	if _, err := hub.Reload(&o); err != nil {
		t.Fatal(err)
	}
	servertest.WaitUntil(t, "b and c dropped", func() bool {
		return strings.Count(logs.String(), "authentication error - authorization reloaded") == 2
	})
	waitConns(t, b, 0)
	waitConns(t, c, 0)
	d := leafAs("d", "pd")
	waitConns(t, d, 1)
	waitConns(t, hub, 2)
	if a.NumConnections() != 1 {
		t.Error("a's connection dropped")
	}
	// A user's account changed: its leaf node is bound elsewhere now.
	o.Users = []leaf.User{{Username: "d", Password: "pd"}, users[0]}
	if _, err := hub.Reload(&o); err != nil {
		t.Fatal(err)
	}
	servertest.WaitUntil(t, "d dropped once more", func() bool {
		return strings.Count(logs.String(), "authentication error - authorization reloaded") == 3
	})
	waitConns(t, hub, 2) // d dialed again, bound to $G
	// An account that does not exist is refused.
	o.Users = []leaf.User{{Username: "e", Password: "pe", Account: "NOPE"}}
	if _, err := hub.Reload(&o); err == nil || !strings.Contains(err.Error(), `cannot find local account "NOPE"`) {
		t.Errorf("an unknown account: %v", err)
	}
}

// A reload of the listener's compression, as upstream: a connection that
// compresses changes its level in place; turning compression off closes
// it to negotiate again (it comes back uncompressed), and turning it on
// again too. The log lines name the keys.
func TestReloadCompression(t *testing.T) {
	hs, hub, logs := startHub(t, server.Options{}, leaf.Options{Compression: leaf.Compression{Mode: leaf.CompressionS2Fast}})
	ls, spoke, _ := startLeaf(t, server.Options{}, remoteTo(hub, nil))
	_ = spoke
	compressions := func(want string) {
		t.Helper()
		servertest.WaitUntil(t, "the hub's side at "+want, func() bool {
			got := leaf.Compressions(hub)
			return len(got) == 1 && got[0] == want
		})
	}
	compressions(leaf.CompressionS2Fast)
	o := leaf.Options{Host: "127.0.0.1", Port: leaf.RandomPort, Compression: leaf.Compression{Mode: leaf.CompressionS2Best}}
	if got := leaf.BlockChanges(&leaf.Options{Compression: leaf.Compression{Mode: leaf.CompressionS2Fast}}, &o); !slices.Equal(got, []string{"leafnodes compression = s2_best"}) {
		t.Errorf("changes %v", got)
	}
	if _, err := hub.Reload(&o); err != nil {
		t.Fatal(err)
	}
	compressions(leaf.CompressionS2Best)
	if strings.Contains(logs.String(), "closing the connection to negotiate it") {
		t.Error("a level change closed the connection")
	}
	checkFlowBothWays(t, hs, ls)

	o.Compression.Mode = leaf.CompressionOff
	if _, err := hub.Reload(&o); err != nil {
		t.Fatal(err)
	}
	servertest.WaitUntil(t, "closed to negotiate", func() bool {
		return strings.Count(logs.String(), "closing the connection to negotiate it") == 1
	})
	compressions(leaf.CompressionOff)
	checkFlowBothWays(t, hs, ls)

	o.Compression.Mode = leaf.CompressionS2Better
	if _, err := hub.Reload(&o); err != nil {
		t.Fatal(err)
	}
	compressions(leaf.CompressionS2Better)
	if _, err := hub.Reload(&leaf.Options{Host: "127.0.0.1", Port: leaf.RandomPort, Compression: leaf.Compression{Mode: "bogus"}}); err == nil {
		t.Error("a bad mode accepted")
	}
}

// tls { handshake_first } of the listener reloads, as upstream's: the
// next leaf nodes must handshake first.
func TestReloadHandshakeFirst(t *testing.T) {
	pki := servertest.NewPKI(t)
	_, hub, _ := startHub(t, server.Options{}, leaf.Options{TLSConfig: pki.ServerConfig(false)})
	first := func() *leaf.Options {
		lo := remoteTo(hub, nil)
		lo.Remotes[0].URLs[0].Scheme = "tls"
		lo.Remotes[0].TLS, lo.Remotes[0].TLSConfig, lo.Remotes[0].TLSHandshakeFirst = true, pki.ClientConfig(), true
		return &lo
	}
	o := leaf.Options{Host: "127.0.0.1", Port: leaf.RandomPort, TLSConfig: pki.ServerConfig(false), TLSHandshakeFirst: true}
	if got := leaf.BlockChanges(&leaf.Options{TLSConfig: o.TLSConfig}, &o); !slices.Equal(got, []string{"leafnodes tls handshake_first = true"}) {
		t.Errorf("changes %v", got)
	}
	if _, err := hub.Reload(&o); err != nil {
		t.Fatal(err)
	}
	_, spoke, _ := startLeaf(t, server.Options{}, *first())
	waitConns(t, spoke, 1)
	waitConns(t, hub, 1)
}
