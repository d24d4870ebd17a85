package gwurls

import (
	"testing"

	"github.com/stretchr/testify/require"

	"natsd.dev/server"
)

func TestUnmapReply(t *testing.T) {
	s := &server.Server{}
	mapped := []byte("_GR_.AAAAAA.SSSSSS.inbox.1")
	// No gateway: delivered as it is.
	out, drop := UnmapReply(s, mapped)
	require.False(t, drop)
	require.Equal(t, string(mapped), string(out))
	SetReplyCluster(s, "AAAAAA")
	defer SetReplyCluster(s, "")
	out, drop = UnmapReply(s, mapped)
	require.False(t, drop)
	require.Equal(t, "inbox.1", string(out))
	for _, other := range []string{"_GR_.BBBBBB.SSSSSS.inbox.1", "_GR_.AAAAAA.SSSSSS.", "_GR_.AAAAAAxSSSSSS.x", "_GR_.AAAAAA.SSSSSSx.x"} {
		_, drop = UnmapReply(s, []byte(other))
		require.True(t, drop, other)
	}
	out, drop = UnmapReply(s, []byte("plain.subject"))
	require.False(t, drop)
	require.Equal(t, "plain.subject", string(out))
}

func TestRouteTo(t *testing.T) {
	s := &server.Server{}
	require.Nil(t, RouteTo(s))
	called := ""
	SetRouteTo(s, func(account string, match func(string) bool) *server.Link {
		called = account
		return nil
	})
	require.Nil(t, RouteTo(s)("ACC", func(string) bool { return true }))
	require.Equal(t, "ACC", called)
	SetRouteTo(s, nil)
	require.Nil(t, RouteTo(s))
}

// FuzzUnmapReply: whatever a route brings, UnmapReply does not panic, and
// what it delivers is the subject or its tail after a prefix of this
// cluster.
func FuzzUnmapReply(f *testing.F) {
	for _, s := range []string{"_GR_.AAAAAA.SSSSSS.inbox.1", "_GR_.", "_GR_.AAAAAA.", "foo", "", "_GR_.AAAAAA.SSSSSS.", "$GR.x.y"} {
		f.Add(s)
	}
	s := &server.Server{}
	SetReplyCluster(s, "AAAAAA")
	f.Cleanup(func() { SetReplyCluster(s, "") })
	f.Fuzz(func(t *testing.T, subject string) {
		out, drop := UnmapReply(s, []byte(subject))
		if drop {
			if out != nil {
				t.Fatalf("dropped %q with %q", subject, out)
			}
			return
		}
		if string(out) != subject && "_GR_.AAAAAA."+subject[len("_GR_.AAAAAA."):len("_GR_.AAAAAA.")+7]+string(out) != subject {
			t.Fatalf("%q delivered as %q", subject, out)
		}
	})
}
