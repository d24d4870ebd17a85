package leafurls

import (
	"testing"

	"github.com/stretchr/testify/require"

	"natsd.dev/server"
)

func TestLocalRemoteWatchAndNoLeak(t *testing.T) {
	s := &server.Server{}
	before := numEntries()
	var locals, remotes int
	stopL := WatchLocal(s, func() { locals++ })
	stopR := WatchRemote(s, func() { remotes++ })
	SetLocal(s, []string{"127.0.0.1:7422"})
	SetLocal(s, []string{"127.0.0.1:7422"}) // unchanged: no call
	SetRemote(s, []string{"127.0.0.1:7423"})
	require.Equal(t, 1, locals)
	require.Equal(t, 1, remotes)
	require.Equal(t, []string{"127.0.0.1:7422"}, Local(s))
	require.Equal(t, []string{"127.0.0.1:7423"}, Remote(s))
	ClearLocal(s, []string{"127.0.0.1:9999"}) // another's: kept
	require.Equal(t, []string{"127.0.0.1:7422"}, Local(s))
	stopL()
	stopL()
	stopR()
	SetLocal(s, nil)
	SetRemote(s, nil)
	require.Equal(t, 1, locals, "a stopped watcher is not called")
	require.Equal(t, before, numEntries(), "an empty entry is removed")
	require.Nil(t, Local(s))
}
