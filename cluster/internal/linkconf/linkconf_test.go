package linkconf_test

import (
	"errors"
	"net"
	"strconv"
	"testing"
	"time"

	"natsd.dev/cluster/internal/linkconf"
	"natsd.dev/confparse"
	"natsd.dev/server"
)

func TestSplitHostPort(t *testing.T) {
	for _, tc := range []struct {
		in, host string
		port     int
		err      string
	}{
		{"127.0.0.1:4222", "127.0.0.1", 4222, ""},
		{":-1", "", -1, ""},
		{"[::1]:0", "::1", 0, ""},
		{"h", "", 0, `could not parse address string "h"`},
		{"h:x", "", 0, `could not parse port "x"`},
		{"h:-2", "", 0, "-2 is not a port number"},
		{"h:65536", "", 0, "65536 is not a port number"},
	} {
		h, p, err := linkconf.SplitHostPort(tc.in)
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("%q: err %v, want %s", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || h != tc.host || p != tc.port {
			t.Errorf("%q: %q %d %v", tc.in, h, p, err)
		}
	}
}

func TestUnknownAndAuthorization(t *testing.T) {
	m, err := confparse.ParseWithOptions("x.conf", []byte("a { user: u, pass: p, timeout: 2, token: t, nkey: n, zz: 1 }"), confparse.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var d confparse.Decoder
	var user, pass string
	var timeout time.Duration
	// other takes no key: nkey is refused as not supported, zz is unknown.
	other := func(ae *confparse.Entry, k, name string) bool {
		return linkconf.Unknown(&d, ae, k, name, map[string]bool{"nkey": true})
	}
	linkconf.Authorization(&d, "Test", "a", m.Lookup("a").Value, &user, &pass, &timeout, other)
	if user != "u" || pass != "p" || timeout != 2*time.Second {
		t.Errorf("user %q pass %q timeout %v", user, pass, timeout)
	}
	want := "x.conf:1:3: Test authorization does not support tokens\n" +
		"x.conf:1:45: a nkey is not supported yet\n" +
		"x.conf:1:54: unknown field \"zz\""
	if d.Errors.Error() != want {
		t.Errorf("errors:\n%v\nwant:\n%s", d.Errors, want)
	}
	if len(d.Errors) != 3 || !errors.Is(d.Errors[1], server.ErrNotSupported) || !errors.Is(d.Errors[2], server.ErrUnknownField) {
		t.Errorf("error kinds: %#v", d.Errors)
	}
}

// FuzzSplitHostPort: no panic, and an address that splits has a port in
// range and joins back to one that splits the same.
func FuzzSplitHostPort(f *testing.F) {
	for _, s := range []string{"127.0.0.1:4222", ":-1", "[::1]:0", "h", "h:x", "h:65536"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, p, err := linkconf.SplitHostPort(s)
		if err != nil {
			return
		}
		if p < -1 || p > 65535 {
			t.Fatalf("%q: port %d", s, p)
		}
		h2, p2, err := linkconf.SplitHostPort(net.JoinHostPort(h, strconv.Itoa(p)))
		if err != nil || h2 != h || p2 != p {
			t.Fatalf("%q: %q %d, joined back %q %d %v", s, h, p, h2, p2, err)
		}
	})
}
