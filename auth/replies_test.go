package auth_test

import (
	"testing"
	"time"

	"natsd.dev/auth"
)

// step is a response published at a time after the delivery.
type step struct {
	at    time.Duration
	allow bool
}

func TestReplies(t *testing.T) {
	t0 := time.Unix(1000, 0)
	tests := []struct {
		name  string
		rp    auth.ResponsePermission
		steps []step
	}{
		{"one message", auth.ResponsePermission{MaxMsgs: 1, Expires: time.Minute}, []step{{time.Second, true}, {2 * time.Second, false}}},
		{"three messages", auth.ResponsePermission{MaxMsgs: 3, Expires: time.Minute}, []step{{0, true}, {0, true}, {0, true}, {0, false}}},
		{"expired", auth.ResponsePermission{MaxMsgs: 5, Expires: time.Minute}, []step{{59 * time.Second, true}, {61 * time.Second, false}, {0, false}}},
		{"unlimited", auth.ResponsePermission{MaxMsgs: -1, Expires: -1}, []step{{0, true}, {time.Hour, true}, {1000 * time.Hour, true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := auth.NewReplies(&tt.rp)
			if r.Allow([]byte("_INBOX.a"), t0) {
				t.Fatal("reply allowed before delivery")
			}
			r.Add([]byte("_INBOX.a"), t0)
			for i, s := range tt.steps {
				if got := r.Allow([]byte("_INBOX.a"), t0.Add(s.at)); got != s.allow {
					t.Fatalf("step %d: Allow = %v", i, got)
				}
			}
			if r.Allow([]byte("_INBOX.b"), t0) {
				t.Fatal("other subject allowed")
			}
		})
	}
	var none *auth.Replies
	none.Add([]byte("x"), t0)
	if none.Allow([]byte("x"), t0) || auth.NewReplies(nil) != nil || none.Len() != 0 {
		t.Fatal("nil Replies allows")
	}
}

func TestRepliesBounded(t *testing.T) {
	t0 := time.Unix(1000, 0)
	r := auth.NewReplies(&auth.ResponsePermission{MaxMsgs: 1, Expires: time.Second})
	for i := range 3 * auth.MaxReplies {
		r.Add([]byte("_INBOX."+itoa(i)), t0.Add(time.Duration(i)*time.Millisecond))
	}
	if n := r.Len(); n > auth.MaxReplies || n == 0 {
		t.Fatalf("%d replies tracked", n)
	}
	last := []byte("_INBOX." + itoa(3*auth.MaxReplies-1))
	if !r.Allow(last, t0.Add(time.Duration(3*auth.MaxReplies)*time.Millisecond)) {
		t.Fatal("newest reply forgotten")
	}
	if n := testing.AllocsPerRun(100, func() { r.Allow(last, t0) }); n != 0 {
		t.Fatalf("Allow allocates %v", n)
	}
}
