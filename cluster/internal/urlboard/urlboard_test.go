package urlboard_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"natsd.dev/cluster/internal/urlboard"
	"natsd.dev/server"
)

func TestBoardWatchClearAndNoLeak(t *testing.T) {
	var b urlboard.Board
	s, other := &server.Server{}, &server.Server{}
	calls := 0
	stop := b.Watch(s, func() { calls++ })
	b.Set(s, []string{"127.0.0.1:7422"})
	b.Set(s, []string{"127.0.0.1:7422"}) // unchanged: no call
	b.Set(other, []string{"127.0.0.1:1"})
	require.Equal(t, 1, calls)
	require.Equal(t, []string{"127.0.0.1:7422"}, b.Get(s))
	b.Clear(s, []string{"127.0.0.1:9999"}) // another's list: kept
	require.Equal(t, []string{"127.0.0.1:7422"}, b.Get(s))
	got := b.Get(s)
	got[0] = "changed"
	require.Equal(t, []string{"127.0.0.1:7422"}, b.Get(s), "Get returns a copy")
	stop()
	stop()
	b.Clear(s, []string{"127.0.0.1:7422"})
	b.Set(other, nil)
	require.Equal(t, 1, calls, "a stopped watcher is not called")
	require.Zero(t, b.Len(), "an empty entry is removed")
	require.Nil(t, b.Get(s))
}

func ExampleBoard() {
	var peers urlboard.Board
	s := &server.Server{}
	stop := peers.Watch(s, func() { fmt.Println("changed:", peers.Get(s)) })
	defer stop()
	peers.Set(s, []string{"10.0.0.2:7422"})
	peers.Set(s, []string{"10.0.0.2:7422"}) // the same: watchers do not run
	// Output: changed: [10.0.0.2:7422]
}
