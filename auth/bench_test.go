package auth_test

import (
	"strconv"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"natsd.dev/auth"
	"natsd.dev/sublist"
)

func benchChecker(b *testing.B) *auth.Checker {
	return mustChecker(b, &auth.Permissions{
		Publish: &auth.SubjectPermission{
			Allow: []string{"orders.>", "metrics.*.cpu", "_INBOX.>", "svc.*.req"},
			Deny:  []string{"orders.*.secret", "orders.admin.>"},
		},
		Subscribe: &auth.SubjectPermission{
			Allow: []string{"orders.>", "_INBOX.>", "work.* workers"},
			Deny:  []string{"orders.*.secret"},
		},
	})
}

// BenchmarkCanPublish/hit is the cost a permission check adds to a
// publish: compare it with BenchmarkSublistMatchHit, the cached sublist
// lookup every publish pays anyway.
func BenchmarkCanPublish(b *testing.B) {
	subj := []byte("orders.eu.new")
	b.Run("hit", func(b *testing.B) {
		c := benchChecker(b)
		c.CanPublish(subj)
		b.ReportAllocs()
		b.SetBytes(int64(len(subj)))
		for b.Loop() {
			if !c.CanPublish(subj) {
				b.Fatal("denied")
			}
		}
	})
	b.Run("publisher-same-subject", func(b *testing.B) {
		p := benchChecker(b).NewPublisher()
		p.CanPublish(subj)
		b.ReportAllocs()
		for b.Loop() {
			if !p.CanPublish(subj) {
				b.Fatal("denied")
			}
		}
	})
	b.Run("publisher-4-subjects", func(b *testing.B) {
		p := benchChecker(b).NewPublisher()
		subjects := benchSubjects()
		for _, s := range subjects {
			p.CanPublish(s)
		}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			p.CanPublish(subjects[i&3])
			i++
		}
	})
	b.Run("checker-4-subjects", func(b *testing.B) {
		c := benchChecker(b)
		subjects := benchSubjects()
		for _, s := range subjects {
			c.CanPublish(s)
		}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			c.CanPublish(subjects[i&3])
			i++
		}
	})
	b.Run("hit-parallel", func(b *testing.B) {
		c := benchChecker(b)
		c.CanPublish(subj)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				c.CanPublish(subj)
			}
		})
	})
	b.Run("miss", func(b *testing.B) {
		c := benchChecker(b)
		subjects := make([][]byte, 4096) // 8 times the cache
		for i := range subjects {
			subjects[i] = []byte("orders.eu." + strconv.Itoa(i))
		}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			c.CanPublish(subjects[i%len(subjects)])
			i++
		}
	})
}

func BenchmarkSublistMatchHit(b *testing.B) {
	s := sublist.New[int]()
	for i, f := range []string{"orders.>", "orders.*.new", "metrics.>", "_INBOX.abc"} {
		if err := s.Insert(f, "", i); err != nil {
			b.Fatal(err)
		}
	}
	subj := []byte("orders.eu.new")
	s.MatchBytes(subj)
	b.ReportAllocs()
	b.SetBytes(int64(len(subj)))
	for b.Loop() {
		s.MatchBytes(subj)
	}
}

func BenchmarkCanSubscribe(b *testing.B) {
	c := benchChecker(b)
	b.ReportAllocs()
	for b.Loop() {
		c.CanSubscribe("orders.eu.*", "")
	}
}

func BenchmarkCanDeliver(b *testing.B) {
	c := benchChecker(b)
	subj := []byte("orders.eu.new")
	c.CanDeliver(subj)
	b.ReportAllocs()
	for b.Loop() {
		c.CanDeliver(subj)
	}
}

// BenchmarkPassword shows why the server must not run authentication on
// its accept loop: a bcrypt check at mkpasswd's default cost (11) takes
// a large fraction of a CPU second, on purpose.
func BenchmarkPassword(b *testing.B) {
	for _, tc := range []struct {
		name string
		cost int
	}{{"plain", 0}, {"bcrypt-cost4", bcrypt.MinCost}, {"bcrypt-cost11", 11}} {
		b.Run(tc.name, func(b *testing.B) {
			pw := "s3cr3t-password"
			if tc.cost > 0 {
				h, err := bcrypt.GenerateFromPassword([]byte(pw), tc.cost)
				if err != nil {
					b.Fatal(err)
				}
				pw = string(h)
			}
			users, err := auth.NewUsers([]auth.User{{Name: "u", Password: pw}}, "")
			if err != nil {
				b.Fatal(err)
			}
			req := &auth.Request{User: "u", Password: "s3cr3t-password"}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := users.Authenticate(req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkNkeyVerify(b *testing.B) {
	pub, sign := nkeyUser(b)
	users, err := auth.NewUsers([]auth.User{{Nkey: pub}}, "")
	if err != nil {
		b.Fatal(err)
	}
	nonce := auth.NewNonce()
	req := &auth.Request{Nkey: pub, Sig: sign(nonce), Nonce: nonce}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := users.Authenticate(req); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNewNonce(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		auth.NewNonce()
	}
}

func BenchmarkRepliesAllow(b *testing.B) {
	r := auth.NewReplies(&auth.ResponsePermission{MaxMsgs: -1, Expires: -1})
	reply := []byte("_INBOX.Kv5rLyb2DJUlGwJ0Xw9Qa1.17")
	now := time.Now()
	r.Add(reply, now)
	b.ReportAllocs()
	for b.Loop() {
		r.Allow(reply, now)
	}
}

// benchSubjects are four subjects a publisher alternates among: three
// allowed, one denied by benchChecker.
func benchSubjects() [][]byte {
	return [][]byte{[]byte("orders.eu.new"), []byte("metrics.h1.cpu"), []byte("svc.billing.req"), []byte("orders.us.secret")}
}

// BenchmarkPublishPath compares the per-message lookups of a publish
// without permissions (one cached sublist match) and with them (the same
// plus a cached CanPublish). The rest of a publish (parsing, copying the
// payload, writing to subscribers) costs the same in both cases, so this
// is the worst case of the permission overhead.
func BenchmarkPublishPath(b *testing.B) {
	s := sublist.New[int]()
	for i, f := range []string{"orders.>", "orders.*.new", "metrics.>"} {
		if err := s.Insert(f, "", i); err != nil {
			b.Fatal(err)
		}
	}
	subj := []byte("orders.eu.new")
	for _, tc := range []struct {
		name string
		c    *auth.Checker
	}{{"without-permissions", nil}, {"with-permissions", benchChecker(b)}} {
		b.Run(tc.name, func(b *testing.B) {
			s.MatchBytes(subj)
			tc.c.CanPublish(subj)
			b.ReportAllocs()
			for b.Loop() {
				if tc.c.CanPublish(subj) {
					s.MatchBytes(subj)
				}
			}
		})
	}
	b.Run("with-permissions-publisher", func(b *testing.B) {
		p := benchChecker(b).NewPublisher()
		p.CanPublish(subj)
		b.ReportAllocs()
		for b.Loop() {
			if p.CanPublish(subj) {
				s.MatchBytes(subj)
			}
		}
	})
	// The same with four subjects in turn, as a client publishing to a
	// few subjects does.
	subjects := benchSubjects()
	for _, tc := range []struct {
		name string
		p    *auth.Publisher
	}{{"without-permissions-4-subjects", nil}, {"with-permissions-publisher-4-subjects", benchChecker(b).NewPublisher()}} {
		b.Run(tc.name, func(b *testing.B) {
			for _, subj := range subjects {
				s.MatchBytes(subj)
				if tc.p != nil {
					tc.p.CanPublish(subj)
				}
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				subj := subjects[i&3]
				i++
				if tc.p == nil || tc.p.CanPublish(subj) {
					s.MatchBytes(subj)
				}
			}
		})
	}
}
