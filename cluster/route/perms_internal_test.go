package route

import (
	"io"
	"log/slog"
	"net"
	"net/url"
	"testing"
	"time"

	"natsd.dev/server"
	"natsd.dev/sublist"
)

var benchPerms = &RoutePermissions{
	Import: &SubjectPermission{Allow: []string{"orders.>", "stock.*", "_INBOX.>"}, Deny: []string{"orders.secret", "orders.*.internal"}},
	Export: &SubjectPermission{Deny: []string{"private.>"}},
}

// routeReader is a route as its reader sees it after the handshake: a
// link to a started server, the parser, and perms compiled. Its far end
// is drained.
func routeReader(tb testing.TB, perms *RoutePermissions) (*route, *server.Server) {
	tb.Helper()
	s, err := server.New(server.Options{Host: "127.0.0.1", Port: server.RandomPort})
	if err != nil {
		tb.Fatal(err)
	}
	if err := s.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Shutdown(tb.Context()) })
	rf, err := compileRoutePermissions(perms)
	if err != nil {
		tb.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	far, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { far.Close() })
	go io.Copy(io.Discard, far)
	near, err := ln.Accept()
	if err != nil {
		tb.Fatal(err)
	}
	l, err := s.NewLink(near, server.LinkConfig{Kind: server.ConnRoute, Reasons: routeReasons})
	if err != nil {
		tb.Fatal(err)
	}
	c := &Cluster{s: s, log: slog.New(slog.DiscardHandler)}
	c.perms.Store(&rf)
	r := &route{cl: c, link: l}
	r.initParser()
	return r, s
}

// localSub subscribes a raw TCP client, drained, to subject on s and
// waits until the server has it (a raw client: a nats.go subscriber's
// own allocations would count in the benchmarks).
func localSub(tb testing.TB, s *server.Server, subject string) {
	tb.Helper()
	u, err := url.Parse(s.ClientURL())
	if err != nil {
		tb.Fatal(err)
	}
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close() })
	if _, err := conn.Write([]byte("CONNECT {\"verbose\":false}\r\nSUB " + subject + " 1\r\n")); err != nil {
		tb.Fatal(err)
	}
	go io.Copy(io.Discard, conn)
	for deadline := time.Now().Add(3 * time.Second); s.GlobalAccount().NumSubscriptions() == 0; {
		if time.Now().After(deadline) {
			tb.Fatal("subscription not registered")
		}
		time.Sleep(time.Millisecond)
	}
}

// TestRoutedMessageWithPermissionsAllocs: the RMSG path (parse, import
// check, delivery to a local subscriber) allocates nothing with import
// permissions, for allowed and for denied subjects.
func TestRoutedMessageWithPermissionsAllocs(t *testing.T) {
	r, s := routeReader(t, benchPerms)
	localSub(t, s, "orders.>")
	for _, msg := range []string{
		"RMSG $G orders.new 16\r\n0123456789abcdef\r\n",
		"RMSG $G orders.secret 16\r\n0123456789abcdef\r\n",
		"RMSG $G other.subject + _INBOX.abc 16\r\n0123456789abcdef\r\n",
	} {
		b := []byte(msg)
		run := func() {
			if err := r.parser.Parse(b, r); err != nil {
				t.Fatal(err)
			}
			r.link.EndBatch()
		}
		for range 100 {
			run()
		}
		if n := testing.AllocsPerRun(2000, run); n != 0 {
			t.Errorf("%q: %v allocations, want 0", msg, n)
		}
	}
	// And the filters themselves, on subjects seen for the first time.
	rf := r.cl.filters()
	subj := []byte("private.x0000")
	i := 0
	if n := testing.AllocsPerRun(1000, func() {
		i++
		subj[len(subj)-1] = byte('0' + i%10)
		subj[len(subj)-2] = byte('0' + i/10%10)
		_ = rf.exp.Allow(subj)
		_ = rf.imp.Allow(subj)
	}); n != 0 {
		t.Errorf("filters: %v allocations, want 0", n)
	}
}

func TestSubjectFilter(t *testing.T) {
	rf, err := compileRoutePermissions(benchPerms)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		subject string
		imp     bool
	}{
		{"orders.new", true},
		{"orders.a.b", true},
		{"orders.secret", false},
		{"orders.eu.internal", false},
		{"stock.ibm", true},
		{"stock.ibm.x", false},
		{"stock.*", true}, // interest: wildcards taken literally
		{"stock.>", true}, // as upstream: the '*' entry matches the '>' token
		{"orders.>", true},
		{">", false},
		{"other", false},
	} {
		if got := rf.imp.allows(tc.subject); got != tc.imp {
			t.Errorf("import %q: %v, want %v", tc.subject, got, tc.imp)
		}
		if got := rf.imp.Allow([]byte(tc.subject)); got != tc.imp {
			t.Errorf("import bytes %q: %v, want %v", tc.subject, got, tc.imp)
		}
	}
	if !rf.exp.allows("public") || rf.exp.allows("private.a") || rf.exp.Allow(nil) {
		t.Error("export")
	}
	var none *subjectFilter
	if !none.allows("x") || !none.Allow([]byte("x")) {
		t.Error("nil filter must allow")
	}
}

// BenchmarkRoutedMessage measures the RMSG path on a route's reader: parse,
// import check, delivery to a local subscriber; without permissions, with
// import allow/deny lists and a permitted subject, and with a denied one.
func BenchmarkRoutedMessage(b *testing.B) {
	for _, bc := range []struct {
		name  string
		perms *RoutePermissions
		subj  string
	}{
		{"none", nil, "orders.new"},
		{"allowed", benchPerms, "orders.new"},
		{"denied", benchPerms, "orders.secret"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			r, s := routeReader(b, bc.perms)
			localSub(b, s, "orders.>")
			msg := []byte("RMSG $G " + bc.subj + " 16\r\n0123456789abcdef\r\n")
			b.SetBytes(16)
			b.ReportAllocs()
			for b.Loop() {
				if err := r.parser.Parse(msg, r); err != nil {
					b.Fatal(err)
				}
				r.link.EndBatch()
			}
		})
	}
}

// BenchmarkSubjectFilter measures one permission check on bytes.
func BenchmarkSubjectFilter(b *testing.B) {
	rf, _ := compileRoutePermissions(benchPerms)
	subj := []byte("orders.eu.new")
	b.ReportAllocs()
	for b.Loop() {
		_ = rf.imp.Allow(subj)
	}
}

// TestPatternsAgreeWithSublist: the linear matcher of short lists and
// the sublist of long ones decide alike (differential, every pair of a
// set of filters and subjects, wildcards and malformed ones included).
func TestPatternsAgreeWithSublist(t *testing.T) {
	filters := []string{"a", "a.b", "a.*", "a.>", "*", ">", "*.b", "a.*.c", "*.*", "a.b.>", "*.>", "b.*.>"}
	subjects := []string{"a", "b", "a.b", "a.c", "a.b.c", "a.x.c", "b.b", "b.a.c.d", "a.*", "a.>", "*", ">", "*.b",
		"a..b", "a.", ".a", "", "a.b.", "a.*.c", "x.y.z.w"}
	for _, f := range filters {
		l, err := compileList("import", []string{f})
		if err != nil || l.sl != nil {
			t.Fatal(err)
		}
		sl := sublist.NewWithOptions[int](sublist.Options{NoCache: true})
		if err := sl.Insert(f, "", 0); err != nil {
			t.Fatal(err)
		}
		for _, s := range subjects {
			if got, want := l.match(s, tokenize(s, nil)), sl.HasInterest(s); got != want {
				t.Errorf("pattern %q, subject %q: %v, sublist says %v", f, s, got, want)
			}
		}
	}
	// A long list goes to a sublist and still decides the same.
	long := &SubjectPermission{}
	for i := range linearMax + 4 {
		long.Allow = append(long.Allow, "n"+string(rune('a'+i))+".>")
	}
	f, err := compileFilter("import", long)
	if err != nil || f.allow.sl == nil {
		t.Fatalf("long list not compiled to a sublist: %v", err)
	}
	if !f.allows("na.x") || f.allows("na") || f.allows("zz.x") {
		t.Error("long list decisions")
	}
}

// FuzzPermissionMatch: a short list's token matcher decides as a sublist
// holding the same filter (differential oracle), for any subject, and
// the bytes entry point agrees with the string one.
func FuzzPermissionMatch(f *testing.F) {
	for _, seed := range [][2]string{
		{"a.b", "a.*"}, {"a.b.c", "a.>"}, {"a", ">"}, {"a.>", "a.*"}, {"a..b", "a.*.b"},
		{"", "*"}, {"x.y", "x.y"}, {"a.b.", "a.>"}, {"*", "*"}, {"a.*", "a.b"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, subject, filter string) {
		if !sublist.ValidSubject(filter) {
			if _, err := compileList("import", []string{filter}); err == nil {
				t.Fatalf("invalid filter %q compiled", filter)
			}
			return
		}
		l, err := compileList("import", []string{filter})
		if err != nil {
			t.Fatal(err)
		}
		sl := sublist.NewWithOptions[int](sublist.Options{NoCache: true})
		if err := sl.Insert(filter, "", 0); err != nil {
			t.Fatal(err)
		}
		var buf [32]string
		got, want := l.match(subject, tokenize(subject, buf[:0])), sl.HasInterest(subject)
		if got != want {
			t.Fatalf("filter %q, subject %q: %v, sublist says %v", filter, subject, got, want)
		}
		fl := &subjectFilter{allow: l}
		if fl.allows(subject) != fl.Allow([]byte(subject)) && subject != "" {
			t.Fatalf("bytes and string disagree on %q", subject)
		}
	})
}
