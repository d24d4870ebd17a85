package server

import (
	"testing"
	"time"

	"natsd.dev/auth"
)

// setupAuthDelivery starts a server with a user without permissions
// ("free") and one with publish permissions ("limited", allow_responses
// too with responses), one subscriber on foo.> and bar, and returns a
// publisher logged in as user, driven directly like setupDelivery's.
func setupAuthDelivery(tb testing.TB, user string, responses bool) *client {
	tb.Helper()
	perms := &auth.Permissions{Publish: &auth.SubjectPermission{Allow: []string{"foo.>", "bar"}, Deny: []string{"foo.secret"}}}
	if responses {
		perms.Response = &auth.ResponsePermission{MaxMsgs: 1, Expires: time.Minute}
	}
	s, err := New(Options{Host: "127.0.0.1", Port: RandomPort, Authorization: &auth.Config{Users: []auth.User{
		{Name: "free", Password: "f"},
		{Name: "limited", Password: "l", Permissions: perms},
	}}})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Shutdown(tb.Context()) })
	pipeClient(tb, s, "CONNECT {\"verbose\":false,\"user\":\"free\",\"pass\":\"f\"}\r\nSUB foo.> 1\r\nSUB bar 2\r\n")
	deadline := time.Now().Add(2 * time.Second)
	for s.gAcc.sl.Count() != 2 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if s.gAcc.sl.Count() != 2 {
		tb.Fatal("subscriptions not registered")
	}
	pub := pipeClient(tb, s, "")
	pass := map[string]string{"free": "f", "limited": "l"}[user]
	if err := pub.parser.Parse([]byte("CONNECT {\"verbose\":false,\"user\":\""+user+"\",\"pass\":\""+pass+"\"}\r\n"), pub); err != nil {
		tb.Fatal(err)
	}
	if pub.authPending || (user == "limited") != (pub.publisher != nil) {
		tb.Fatal("not logged in as", user)
	}
	return pub
}

func TestDeliveryAllocsWithPermissions(t *testing.T) {
	for _, user := range []string{"free", "limited"} {
		pub := setupAuthDelivery(t, user, false)
		for _, tc := range []struct{ name, proto string }{
			{"PUB", "PUB foo.a 16\r\n0123456789abcdef\r\n"},
			{"PUB reply", "PUB foo.a bar.reply 16\r\n0123456789abcdef\r\n"},
			{"two subjects", "PUB foo.a 16\r\n0123456789abcdef\r\nPUB bar 16\r\n0123456789abcdef\r\n"},
			{"denied", "PUB foo.secret 16\r\n0123456789abcdef\r\n"},
		} {
			if tc.name == "denied" && user == "free" {
				continue
			}
			msg := []byte(tc.proto)
			run := func() {
				if err := pub.parser.Parse(msg, pub); err != nil {
					t.Fatal(err)
				}
				pub.flushSignals()
				pub.flushStats()
				if tc.name == "denied" {
					// The -ERR goes out through the publisher's own buffer.
					pub.mu.Lock()
					pub.out.drop()
					pub.mu.Unlock()
				}
			}
			for range 100 {
				run()
			}
			if tc.name == "denied" {
				continue // -ERR text and the log line allocate; only delivery must not
			}
			if n := testing.AllocsPerRun(2000, run); n != 0 {
				t.Errorf("%s %s: %v allocations per message, want 0", user, tc.name, n)
			}
		}
	}
}

// BenchmarkDeliverPermissions compares publishing as a user without
// permissions and as one with publish permissions (same subject each time,
// and alternating between two subjects, which defeats the connection's
// one-subject memory and goes to the Checker's cache).
func BenchmarkDeliverPermissions(b *testing.B) {
	for _, bc := range []struct {
		name, user, proto string
		msgs              int64
	}{
		{"none", "free", "PUB foo.a 128\r\n", 1},
		{"publish", "limited", "PUB foo.a 128\r\n", 1},
		{"none-2subjects", "free", "PUB foo.a 128\r\n" + string(make([]byte, 128)) + "\r\nPUB bar 128\r\n", 2},
		{"publish-2subjects", "limited", "PUB foo.a 128\r\n" + string(make([]byte, 128)) + "\r\nPUB bar 128\r\n", 2},
	} {
		b.Run(bc.name, func(b *testing.B) {
			pub := setupAuthDelivery(b, bc.user, false)
			msg := append([]byte(bc.proto), make([]byte, 128)...)
			msg = append(msg, "\r\n"...)
			b.SetBytes(128 * bc.msgs)
			b.ReportAllocs()
			for b.Loop() {
				if err := pub.parser.Parse(msg, pub); err != nil {
					b.Fatal(err)
				}
				pub.flushSignals()
			}
			pub.flushStats()
		})
	}
}
