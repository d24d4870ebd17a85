package gwurls

import (
	"testing"

	"github.com/stretchr/testify/require"

	"natsd.dev/server"
)

func TestGatewayURLsWatchAndNoLeak(t *testing.T) {
	s := &server.Server{}
	before := numEntries()
	var locals, remotes int
	var announced, learned []string
	stopL := WatchLocal(s, func() { locals++ })
	stopR := WatchRemote(s, func() { remotes++ })
	stopA := WatchAnnounce(s, func(name string, urls []string) { announced = append(announced, name+"="+urls[0]) })
	stopN := WatchLearned(s, func(name string, urls []string) { learned = append(learned, name+"="+urls[0]) })
	SetLocal(s, "127.0.0.1:7222")
	SetLocal(s, "127.0.0.1:7222") // unchanged: no call
	SetRemote(s, []string{"127.0.0.1:7223"})
	Announce(s, "B", []string{"127.0.0.1:8222"})
	Learned(s, "C", []string{"127.0.0.1:9222"})
	require.Equal(t, 1, locals)
	require.Equal(t, 1, remotes)
	require.Equal(t, []string{"B=127.0.0.1:8222"}, announced)
	require.Equal(t, []string{"C=127.0.0.1:9222"}, learned)
	require.Equal(t, "127.0.0.1:7222", Local(s))
	require.Equal(t, []string{"127.0.0.1:7223"}, Remote(s))
	ClearLocal(s, "127.0.0.1:9999") // another's: kept
	require.Equal(t, "127.0.0.1:7222", Local(s))
	require.Nil(t, Known(s))
	SetKnown(s, func() map[string][]string { return map[string][]string{"B": {"127.0.0.1:8222"}} })
	require.Equal(t, map[string][]string{"B": {"127.0.0.1:8222"}}, Known(s))
	SetKnown(s, nil)
	stopL()
	stopL()
	stopR()
	stopA()
	stopN()
	Announce(s, "D", []string{"x:1"})
	require.Len(t, announced, 1, "a stopped watcher is not called")
	ClearLocal(s, "127.0.0.1:7222")
	SetRemote(s, nil)
	require.Equal(t, 1, locals)
	require.Equal(t, before+1, numEntries(), "a learned cluster is kept")
	ForgetLearned(s)
	require.Equal(t, before, numEntries(), "an empty entry is removed")
	require.Empty(t, Local(s))
}

// TestLearnedBeforeWatch: a cluster a peer told of before the gateway
// module watched (a route registers before the gateway starts) reaches
// the watcher when it starts; ForgetLearned drops it.
func TestLearnedBeforeWatch(t *testing.T) {
	s := &server.Server{}
	before := numEntries()
	Learned(s, "B", []string{"127.0.0.1:8222"})
	Learned(s, "B", []string{"127.0.0.1:8223"}) // the latest list wins
	var learned []string
	stop := WatchLearned(s, func(name string, urls []string) { learned = append(learned, name+"="+urls[0]) })
	require.Equal(t, []string{"B=127.0.0.1:8223"}, learned)
	Learned(s, "C", []string{"127.0.0.1:9222"})
	require.Equal(t, []string{"B=127.0.0.1:8223", "C=127.0.0.1:9222"}, learned)
	stop()
	ForgetLearned(s)
	var late []string
	stop = WatchLearned(s, func(name string, _ []string) { late = append(late, name) })
	require.Empty(t, late, "forgotten clusters are not replayed")
	stop()
	require.Equal(t, before, numEntries())
}
