package route_test

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"golang.org/x/crypto/bcrypt"

	"natsd.dev/cluster/route"
	"natsd.dev/server"
	"natsd.dev/server/servertest"
)

func TestParseConfigPermissions(t *testing.T) {
	o, warns, err := parseCluster(t, `
cluster {
  port: 6222
  permissions {
    import: { allow: ["orders.>", "stock.*"], deny: "orders.secret" }
    export: "public.>"
  }
}
`)
	if err != nil || len(warns) != 0 {
		t.Fatalf("err %v warns %v", err, warns)
	}
	p := o.Permissions
	if p == nil || p.Import == nil || p.Export == nil ||
		strings.Join(p.Import.Allow, ",") != "orders.>,stock.*" || strings.Join(p.Import.Deny, ",") != "orders.secret" ||
		strings.Join(p.Export.Allow, ",") != "public.>" || p.Export.Deny != nil {
		t.Fatalf("permissions %+v", p)
	}

	// Upstream's aliases (publish = import, subscribe = export) and lists.
	o, _, err = parseCluster(t, `cluster { permissions { pub: [a, b], subscribe: { deny: [c.>] } } }`)
	if err != nil || strings.Join(o.Permissions.Import.Allow, ",") != "a,b" || strings.Join(o.Permissions.Export.Deny, ",") != "c.>" {
		t.Fatalf("%+v %v", o.Permissions, err)
	}

	// Inside authorization {}: accepted with upstream's deprecation
	// warning; the cluster block's own permissions win whatever the order.
	o, warns, err = parseCluster(t, `cluster {
  permissions { export: top }
  authorization { user: u, password: p, permissions { export: auth, allow_responses: true } }
}`)
	if err != nil || strings.Join(o.Permissions.Export.Allow, ",") != "top" {
		t.Fatalf("%+v %v", o.Permissions, err)
	}
	if warns.Error() != `test.conf:3:41: setting "permissions" within cluster authorization block is deprecated` || !errors.Is(warns, server.ErrConfigWarning) {
		t.Errorf("warnings %v", warns)
	}
	o, _, err = parseCluster(t, `cluster {
  authorization { user: u, password: p, permissions { import: auth } }
}`)
	if err != nil || o.Permissions == nil || strings.Join(o.Permissions.Import.Allow, ",") != "auth" {
		t.Fatalf("%+v %v", o.Permissions, err)
	}

	// Errors, all at once, with positions.
	_, _, err = parseCluster(t, `cluster {
  permissions {
    import: { allow: "a..b", only: x }
    sub: 42
    export: [ok, 7]
    responses: 1
  }
}`)
	want := []string{
		`test.conf:3:22: subject "a..b" is not a valid subject`,
		`test.conf:3:30: Unknown field name "only" parsing subject permissions, only 'allow' or 'deny' are permitted`,
		`test.conf:4:10: cluster permissions sub: expected a subject or an array of subjects, got integer 42`,
		`test.conf:5:18: Subject in permissions array cannot be cast to string`,
		`test.conf:6:5: Unknown field "responses" parsing permissions`,
	}
	if err == nil || err.Error() != strings.Join(want, "\n") {
		t.Errorf("got:\n%v\nwant:\n%s", err, strings.Join(want, "\n"))
	}
}

func TestStartRejectsBadPermissions(t *testing.T) {
	s, err := server.New(server.Options{Host: "127.0.0.1", Port: server.RandomPort})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(t.Context())
	_, err = route.Start(s, &route.Options{Port: 0, Host: "127.0.0.1",
		Permissions: &route.RoutePermissions{Export: &route.SubjectPermission{Deny: []string{"a.>.b"}}}})
	if err == nil || !strings.Contains(err.Error(), `"a.>.b"`) {
		t.Fatalf("got %v", err)
	}
}

// expectMsgs reads from sub until the subjects in want arrived, in order,
// and fails on anything else (a denied subject crossing).
func expectMsgs(t *testing.T, sub *nats.Subscription, want ...string) {
	t.Helper()
	for _, w := range want {
		m, err := sub.NextMsg(3 * time.Second)
		if err != nil {
			t.Fatalf("waiting for %q: %v", w, err)
		}
		if m.Subject != w {
			t.Fatalf("got %q, want %q", m.Subject, w)
		}
	}
}

// permPair starts A with perms and B routed to it, a subscriber on subNode
// to subjects and waits until pubNode sees want subscriptions in total.
func permPair(t *testing.T, perms *route.RoutePermissions) (a, b *node) {
	t.Helper()
	a = startNode(t, "A", route.Options{Name: "perm", Permissions: perms})
	b = startNode(t, "B", route.Options{Name: "perm", Routes: []*url.URL{a.routeURL()}})
	waitRoutes(t, 1, a, b)
	return a, b
}

// crossTest subscribes on subNode to each of subs, waits until pubNode
// has wantRemote of them as remote interest, publishes every subject of
// pubs on pubNode, then a final "end" marker the subscriber must see,
// and checks what arrived. The subscriber stays until the returned done
// closes it and waits until pubNode no longer holds its interest.
func crossTest(t *testing.T, pubNode, subNode *node, subs []string, wantRemote int, pubs []string, want ...string) (done func()) {
	t.Helper()
	// pubNode may hold subscriptions already (an earlier crossTest's, the
	// other way round): wait for the new remote ones on top of those.
	base := pubNode.s.GlobalAccount().NumSubscriptions()
	nc := subNode.connect(t)
	ch := make(chan *nats.Msg, 64)
	for _, s := range append(subs, "end") {
		if _, err := nc.ChanSubscribe(s, ch); err != nil {
			t.Fatal(err)
		}
	}
	nc.Flush()
	waitInterest(t, pubNode, base+wantRemote+1) // +1: "end"
	pc := pubNode.connect(t)
	for _, s := range append(pubs, "end") {
		if err := pc.Publish(s, []byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	pc.Flush()
	var got []string
	timeout := time.After(5 * time.Second)
	for {
		select {
		case m := <-ch:
			if m.Subject == "end" {
				if strings.Join(got, " ") != strings.Join(want, " ") {
					t.Fatalf("got %v, want %v", got, want)
				}
				return func() {
					nc.Close()
					servertest.WaitUntilWithin(t, 5*time.Second, "the interest to go", func() bool {
						return pubNode.s.GlobalAccount().NumSubscriptions() <= base
					})
				}
			}
			got = append(got, m.Subject)
		case <-timeout:
			t.Fatalf("no end marker; got %v", got)
		}
	}
}

func TestRoutePermissionsExport(t *testing.T) {
	// A exports public.> and end, except public.secret.
	a, b := permPair(t, &route.RoutePermissions{Export: &route.SubjectPermission{
		Allow: []string{"public.>", "end"}, Deny: []string{"public.secret"}}})
	// B's interest in private and public.secret is refused by A: A holds
	// only public.news and end as B's interest.
	crossTest(t, a, b, []string{"public.news", "public.secret", "private"}, 1,
		[]string{"private", "public.secret", "public.news"}, "public.news")
	if n := a.s.GlobalAccount().NumSubscriptions(); n != 2 {
		t.Errorf("A holds %d remote subscriptions, want 2", n)
	}
	if !strings.Contains(a.log.String(), `Can not export "private", ignoring remote subscription request`) {
		t.Errorf("no debug line about the refused interest:\n%s", a.log.String())
	}
	// Export limits only what A sends: B to A is not limited.
	crossTest(t, b, a, []string{"private"}, 1, []string{"private"}, "private")
}

func TestRoutePermissionsExportWildcardInterest(t *testing.T) {
	// B subscribes to public.>, which A's export allows; the denied
	// subject under it is still not forwarded (checked per message).
	a, b := permPair(t, &route.RoutePermissions{Export: &route.SubjectPermission{
		Allow: []string{"public.>", "end"}, Deny: []string{"public.secret"}}})
	crossTest(t, a, b, []string{"public.>"}, 1,
		[]string{"public.secret", "public.a", "public.secret", "public.b"}, "public.a", "public.b")
}

func TestRoutePermissionsImport(t *testing.T) {
	// A imports in.> and end, except in.secret.
	a, b := permPair(t, &route.RoutePermissions{Import: &route.SubjectPermission{
		Allow: []string{"in.>", "end"}, Deny: []string{"in.secret"}}})
	// A does not announce its interest in other or in.secret: B holds
	// in.ok and end only.
	crossTest(t, b, a, []string{"in.ok", "in.secret", "other"}, 1,
		[]string{"other", "in.secret", "in.ok"}, "in.ok")
	if n := b.s.GlobalAccount().NumSubscriptions(); n != 2 {
		t.Errorf("B holds %d remote subscriptions, want 2", n)
	}
	// Import limits only what A takes: A to B is not limited.
	crossTest(t, a, b, []string{"other"}, 1, []string{"other"}, "other")
}

func TestRoutePermissionsImportWildcardInterest(t *testing.T) {
	// A's interest in in.> is announced; the denied subject under it that
	// B forwards is dropped by A (checked per routed message).
	a, b := permPair(t, &route.RoutePermissions{Import: &route.SubjectPermission{
		Deny: []string{"in.secret"}}})
	crossTest(t, b, a, []string{"in.>"}, 1,
		[]string{"in.secret", "in.a", "in.secret", "in.b"}, "in.a", "in.b")
}

func TestRouteAuthorizationBcrypt(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("s3cret"), 4)
	if err != nil {
		t.Fatal(err)
	}
	a := startNode(t, "A", route.Options{Name: "test", Username: "ruser", Password: string(hash)})
	good := a.routeURL()
	good.User = url.UserPassword("ruser", "s3cret")
	b := startNode(t, "B", route.Options{Name: "test", Routes: []*url.URL{good}})
	waitRoutes(t, 1, a, b)
	crossTest(t, b, a, []string{"x"}, 1, []string{"x"}, "x")

	for i, pass := range []string{"wrong", string(hash)} { // the hash itself is no password
		bad := a.routeURL()
		bad.User = url.UserPassword("ruser", pass)
		c := startNode(t, "C", route.Options{Name: "test", Routes: []*url.URL{bad}})
		servertest.WaitUntilWithin(t, 5*time.Second, "auth failure", func() bool {
			return strings.Count(a.log.String(), "authentication error") > i &&
				strings.Contains(c.log.String(), "Authorization Violation") && c.c.NumRoutes() == 0
		})
		if a.c.NumRoutes() != 1 {
			t.Fatalf("%q: A has %d routes, C %d", pass, a.c.NumRoutes(), c.c.NumRoutes())
		}
		c.stop()
	}
}
