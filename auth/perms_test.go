package auth_test

import (
	"errors"
	"strconv"
	"testing"

	"natsd.dev/auth"
)

func mustChecker(t testing.TB, p *auth.Permissions) *auth.Checker {
	t.Helper()
	c, err := auth.NewChecker(p)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCanPublish(t *testing.T) {
	tests := []struct {
		name    string
		perm    *auth.SubjectPermission
		resp    bool
		allowed []string
		denied  []string
	}{
		{"no publish permissions", nil, false, []string{"foo", "a.b.c"}, nil},
		{"allow list", &auth.SubjectPermission{Allow: []string{"foo", "bar.*", "baz.>"}}, false,
			[]string{"foo", "bar.x", "baz.x", "baz.x.y"}, []string{"foo.x", "bar", "bar.x.y", "baz", "qux"}},
		{"deny list", &auth.SubjectPermission{Deny: []string{"secret.>", "admin"}}, false,
			[]string{"foo", "secret", "admin.x"}, []string{"secret.a", "secret.a.b", "admin"}},
		{"deny wins", &auth.SubjectPermission{Allow: []string{"orders.>"}, Deny: []string{"orders.*.secret"}}, false,
			[]string{"orders.eu", "orders.eu.public", "orders.eu.secret.x"}, []string{"orders.eu.secret", "other"}},
		{"allow all, deny one", &auth.SubjectPermission{Allow: []string{">"}, Deny: []string{"$SYS.>"}}, false,
			[]string{"foo", "SYS.x"}, []string{"$SYS.REQ.SERVER.PING"}},
		{"empty allow list allows all", &auth.SubjectPermission{Allow: nil}, false, []string{"foo"}, nil},
		{"allow_responses empty allow denies all", &auth.SubjectPermission{Allow: []string{}}, true, nil, []string{"foo", "_INBOX.x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &auth.Permissions{Publish: tt.perm}
			if tt.resp {
				p.Response = &auth.ResponsePermission{MaxMsgs: 1}
			}
			c := mustChecker(t, p)
			for range 2 { // miss, then cache hit
				for _, s := range tt.allowed {
					if !c.CanPublish([]byte(s)) {
						t.Errorf("publish to %q denied", s)
					}
				}
				for _, s := range tt.denied {
					if c.CanPublish([]byte(s)) {
						t.Errorf("publish to %q allowed", s)
					}
				}
			}
			if tt.resp && c.Response() == nil {
				t.Error("Response() nil")
			}
		})
	}
}

func TestCanSubscribe(t *testing.T) {
	type sub struct{ subject, queue string }
	tests := []struct {
		name    string
		perm    *auth.SubjectPermission
		allowed []sub
		denied  []sub
	}{
		{"none", nil, []sub{{"foo", ""}, {">", "q"}}, nil},
		{"literal allow", &auth.SubjectPermission{Allow: []string{"foo.bar"}},
			[]sub{{"foo.bar", ""}, {"foo.bar", "q"}},
			[]sub{{"foo.*", ""}, {"foo.>", ""}, {">", ""}, {"foo", ""}}},
		{"wildcard allow", &auth.SubjectPermission{Allow: []string{"foo.*"}},
			[]sub{{"foo.bar", ""}, {"foo.*", ""}},
			[]sub{{"foo.>", ""}, {"foo.bar.baz", ""}, {"*.bar", ""}}},
		{"full wildcard allow", &auth.SubjectPermission{Allow: []string{"foo.>"}},
			[]sub{{"foo.bar", ""}, {"foo.*", ""}, {"foo.>", ""}, {"foo.*.x", ""}},
			[]sub{{"foo", ""}, {">", ""}}},
		{"deny literal", &auth.SubjectPermission{Deny: []string{"foo.bar"}},
			[]sub{{"foo.baz", ""}, {"foo.*", ""}, {"foo.>", ""}},
			[]sub{{"foo.bar", ""}, {"foo.bar", "q"}}},
		{"deny wildcard", &auth.SubjectPermission{Deny: []string{"foo.*"}},
			[]sub{{"foo", ""}, {"foo.bar.baz", ""}, {"*.bar", ""}}, // "*.bar" needs a delivery filter
			[]sub{{"foo.bar", ""}, {"foo.*", ""}, {"foo.>", ""}}},
		{"deny wins", &auth.SubjectPermission{Allow: []string{">"}, Deny: []string{"$SYS.>"}},
			[]sub{{"foo", ""}}, []sub{{"$SYS.x", ""}, {"$SYS.>", ""}}},
		{"queue allow", &auth.SubjectPermission{Allow: []string{"foo.> workers", "bar"}},
			[]sub{{"foo.x", "workers"}, {"bar", ""}, {"bar", "any"}},
			[]sub{{"foo.x", ""}, {"foo.x", "other"}}},
		{"queue allow with wildcard queue", &auth.SubjectPermission{Allow: []string{"foo *.dev"}},
			[]sub{{"foo", "a.dev"}, {"foo", "*.dev"}},
			[]sub{{"foo", "a.prod"}, {"foo", "a.b.dev"}, {"foo", ""}}},
		{"queue entries restrict plain allow", &auth.SubjectPermission{Allow: []string{"foo.>", "foo.bar q1"}},
			[]sub{{"foo.bar", "q1"}, {"foo.bar", ""}, {"foo.baz", "q2"}},
			[]sub{{"foo.bar", "q2"}}},
		{"queue deny", &auth.SubjectPermission{Deny: []string{"foo q1"}},
			[]sub{{"foo", ""}, {"foo", "q2"}},
			[]sub{{"foo", "q1"}}},
		{"plain deny wins over queue deny", &auth.SubjectPermission{Deny: []string{"foo.>", "foo.bar q1"}},
			nil, []sub{{"foo.bar", "q2"}, {"foo.bar", ""}, {"foo.bar", "q1"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustChecker(t, &auth.Permissions{Subscribe: tt.perm})
			for _, s := range tt.allowed {
				if !c.CanSubscribe(s.subject, s.queue) {
					t.Errorf("subscribe to %q queue %q denied", s.subject, s.queue)
				}
			}
			for _, s := range tt.denied {
				if c.CanSubscribe(s.subject, s.queue) {
					t.Errorf("subscribe to %q queue %q allowed", s.subject, s.queue)
				}
			}
		})
	}
}

func TestDeliveryFilter(t *testing.T) {
	c := mustChecker(t, &auth.Permissions{Subscribe: &auth.SubjectPermission{Deny: []string{"foo.bar", "x.*.z", "q.a grp"}}})
	for subject, want := range map[string]bool{
		"foo.*": true, "foo.>": true, ">": true, "foo.baz": false, "foo.bar.*": false,
		"x.y.*": true, "*.*.*": true, "x.>": true, "x.*": false, "q.*": false,
	} {
		if got := c.NeedsDeliveryFilter(subject); got != want {
			t.Errorf("NeedsDeliveryFilter(%q) = %v, want %v", subject, got, want)
		}
	}
	for subject, want := range map[string]bool{"foo.bar": false, "foo.baz": true, "x.y.z": false, "x.y": true, "q.a": true} {
		for range 2 {
			if got := c.CanDeliver([]byte(subject)); got != want {
				t.Errorf("CanDeliver(%q) = %v, want %v", subject, got, want)
			}
		}
	}
	none := mustChecker(t, &auth.Permissions{Subscribe: &auth.SubjectPermission{Allow: []string{">"}}})
	if none.NeedsDeliveryFilter(">") || !none.CanDeliver([]byte("x")) {
		t.Error("filter without deny list")
	}
}

func TestNilChecker(t *testing.T) {
	c, err := auth.NewChecker(nil)
	if err != nil || c != nil {
		t.Fatalf("NewChecker(nil) = %v, %v", c, err)
	}
	if !c.CanPublish([]byte("x")) || !c.CanSubscribe("x", "q") || c.NeedsDeliveryFilter(">") ||
		!c.CanDeliver([]byte("x")) || c.Response() != nil || c.Permissions() != nil {
		t.Error("nil Checker restricts something")
	}
}

func TestNewCheckerErrors(t *testing.T) {
	for _, p := range []*auth.Permissions{
		{Publish: &auth.SubjectPermission{Allow: []string{"foo..bar"}}},
		{Publish: &auth.SubjectPermission{Deny: []string{"foo.>.bar"}}},
		{Publish: &auth.SubjectPermission{Allow: []string{"foo q"}}},
		{Subscribe: &auth.SubjectPermission{Allow: []string{"foo q extra"}}},
		{Subscribe: &auth.SubjectPermission{Deny: []string{""}}},
		{Subscribe: &auth.SubjectPermission{Allow: []string{"foo q..x"}}},
	} {
		if _, err := auth.NewChecker(p); !errors.Is(err, auth.ErrInvalidPermission) {
			t.Errorf("%+v: error %v", p, err)
		}
	}
}

// TestCheckerNoAllocs guards the hot path: a cached decision allocates
// nothing.
func TestCheckerNoAllocs(t *testing.T) {
	c := mustChecker(t, &auth.Permissions{
		Publish:   &auth.SubjectPermission{Allow: []string{"orders.>"}, Deny: []string{"orders.*.secret"}},
		Subscribe: &auth.SubjectPermission{Deny: []string{"orders.eu.secret"}},
	})
	subj := []byte("orders.eu.new")
	c.CanPublish(subj)
	c.CanDeliver(subj)
	if n := testing.AllocsPerRun(100, func() { c.CanPublish(subj); c.CanDeliver(subj) }); n != 0 {
		t.Fatalf("%v allocations per cached check", n)
	}
}

// TestCacheChurn publishes to many more subjects than the cache holds,
// so entries are evicted, and checks every answer stays right.
func TestCacheChurn(t *testing.T) {
	c := mustChecker(t, &auth.Permissions{Publish: &auth.SubjectPermission{Allow: []string{"a.*"}, Deny: []string{"a.7"}}})
	buf := make([]byte, 0, 16)
	for round := range 3 {
		for i := range 3000 {
			buf = append(append(buf[:0], "a."...), itoa(i)...)
			want := i != 7
			if round == 2 {
				buf = append(buf, ".x"...) // two dots: never allowed
				want = false
			}
			if got := c.CanPublish(buf); got != want {
				t.Fatalf("round %d: CanPublish(%q) = %v", round, buf, got)
			}
		}
	}
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b [20]byte
	n := len(b)
	for ; i > 0; i /= 10 {
		n--
		b[n] = byte('0' + i%10)
	}
	return string(b[n:])
}

// TestCheckerConcurrent shares one Checker between goroutines that
// publish to overlapping sets of subjects, larger than the cache, as the
// connections of one user do. Run with -race.
func TestCheckerConcurrent(t *testing.T) {
	c := mustChecker(t, &auth.Permissions{
		Publish:   &auth.SubjectPermission{Allow: []string{"a.*"}, Deny: []string{"a.13"}},
		Subscribe: &auth.SubjectPermission{Deny: []string{"a.7"}},
	})
	done := make(chan error)
	for g := range 4 {
		go func() {
			buf := make([]byte, 0, 16)
			for i := range 2000 {
				n := (i*7 + g*31) % 1500
				buf = append(append(buf[:0], "a."...), itoa(n)...)
				if c.CanPublish(buf) != (n != 13) || c.CanDeliver(buf) != (n != 7) {
					done <- errors.New("wrong decision for " + string(buf))
					return
				}
			}
			done <- nil
		}()
	}
	for range 4 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

func TestPublisher(t *testing.T) {
	c := mustChecker(t, &auth.Permissions{Publish: &auth.SubjectPermission{Allow: []string{"a.*"}}})
	p := c.NewPublisher()
	for _, tc := range []struct {
		subject string
		want    bool
	}{{"a.b", true}, {"a.b", true}, {"b", false}, {"b", false}, {"a.c", true}, {"a.b.c", false}, {"a.b", true}} {
		if got := p.CanPublish([]byte(tc.subject)); got != tc.want {
			t.Errorf("CanPublish(%q) = %v", tc.subject, got)
		}
	}
	buf := []byte("a.x")
	p.CanPublish(buf)
	buf[2] = '.' // the caller reuses its buffer: "a.." must not hit "a.x"
	if p.CanPublish(buf) {
		t.Error("stale decision after the caller changed its buffer")
	}
	subj := []byte("a.b")
	p.CanPublish(subj)
	if n := testing.AllocsPerRun(100, func() { p.CanPublish(subj) }); n != 0 {
		t.Errorf("%v allocations", n)
	}
	// More subjects in turn than it remembers: every answer stays right.
	var subjects [][]byte
	for i := range 20 {
		subjects = append(subjects, []byte("a."+strconv.Itoa(i)), []byte("b."+strconv.Itoa(i)))
	}
	for round := range 3 {
		for n := 1; n <= len(subjects); n++ {
			for _, s := range subjects[:n] {
				if got, want := p.CanPublish(s), s[0] == 'a'; got != want {
					t.Fatalf("round %d, %d subjects: CanPublish(%q) = %v", round, n, s, got)
				}
			}
		}
	}
	// A few subjects in turn are answered without allocating.
	few := subjects[:6]
	for _, s := range few {
		p.CanPublish(s)
	}
	if n := testing.AllocsPerRun(100, func() {
		for _, s := range few {
			p.CanPublish(s)
		}
	}); n != 0 {
		t.Errorf("%v allocations cycling over %d subjects", n, len(few))
	}
	var zero auth.Publisher
	if !zero.CanPublish([]byte("x")) || !(*auth.Checker)(nil).NewPublisher().CanPublish([]byte("x")) {
		t.Error("zero Publisher denies")
	}
}
