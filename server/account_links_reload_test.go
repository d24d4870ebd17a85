package server_test

import (
	"io"
	"net"
	"testing"

	"github.com/stretchr/testify/require"

	"natsd.dev/server"
	"natsd.dev/server/servertest"
)

// drainedLink returns a link of s over loopback TCP whose far end is read
// and discarded.
func drainedLink(t *testing.T, s *server.Server) *server.Link {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	far, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	near, err := ln.Accept()
	require.NoError(t, err)
	go io.Copy(io.Discard, far)
	t.Cleanup(func() { far.Close() })
	l, err := s.NewLink(near, server.LinkConfig{})
	require.NoError(t, err)
	return l
}

// TestReloadAccountsLinkInterest: a peer's interest in an account this
// server does not have is kept and registered when a reload adds the
// account; interest in an account a reload removes is kept for when it
// comes back; a removed account keeps no subscription (its internal
// response subscriber included).
func TestReloadAccountsLinkInterest(t *testing.T) {
	const withA = `accounts { A: { users: [ {user: a, password: a} ], exports: [ {service: svc} ] } }`
	const withX = `accounts { X: { users: [ {user: x, password: x} ] } }`
	const both = `accounts {
  A: { users: [ {user: a, password: a} ], exports: [ {service: svc} ] }
  X: { users: [ {user: x, password: x} ] }
}`
	s := servertest.StartConfig(t, withA)
	l := drainedLink(t, s)
	require.ErrorIs(t, l.AddRemoteSub([]byte("X"), []byte("foo"), nil, 1), server.ErrUnknownAccount)
	require.ErrorIs(t, l.AddRemoteSub([]byte("X"), []byte("foo"), []byte("q"), 1), server.ErrUnknownAccount)
	require.ErrorIs(t, l.AddRemoteSub([]byte("Y"), []byte("gone"), nil, 1), server.ErrUnknownAccount)
	l.RemoveRemoteSub([]byte("Y"), []byte("gone"), nil) // RS- of parked interest
	require.NoError(t, l.AddRemoteSub([]byte("A"), []byte("bar"), nil, 1))
	require.Equal(t, 2, l.NumParkedSubs())
	oldA := s.LookupAccount("A")
	require.Equal(t, 2, oldA.NumSubscriptions()) // bar and the response subscription

	// X comes, A goes.
	require.NoError(t, s.Reload(servertest.ConfigOptions(t, withX)))
	x := s.LookupAccount("X")
	require.NotNil(t, x)
	require.Equal(t, 2, x.NumSubscriptions(), "the parked interest registered")
	require.Equal(t, 2, l.NumRemoteSubs())
	require.Equal(t, 1, l.NumParkedSubs(), "A's interest parked")
	require.Zero(t, oldA.NumSubscriptions(), "nothing left in the removed account")

	// A comes back: its interest with it.
	require.NoError(t, s.Reload(servertest.ConfigOptions(t, both)))
	newA := s.LookupAccount("A")
	require.NotSame(t, oldA, newA)
	require.Equal(t, 2, newA.NumSubscriptions())
	require.Zero(t, l.NumParkedSubs())
	require.Equal(t, 3, l.NumRemoteSubs())
	l.RemoveRemoteSub([]byte("A"), []byte("bar"), nil)
	require.Equal(t, 1, newA.NumSubscriptions())
}

// TestLinkInterestByOrigin: interest a route holds for leaf nodes keyed
// by origin (AddRemoteSubByOrigin, a peer that advertised "lnocu") is
// one per origin in the same subject and queue, dropped by origin, and
// keeps its origin through parking: interest in an unknown account, and
// in an account a reload removes and adds back.
func TestLinkInterestByOrigin(t *testing.T) {
	const withA = `accounts { A: { users: [ {user: a, password: a} ] } }`
	const withX = `accounts { X: { users: [ {user: x, password: x} ] } }`
	s := servertest.StartConfig(t, withA)
	l := drainedLink(t, s)
	a := s.LookupAccount("A")
	for _, o := range []string{"C1", "C2"} {
		require.NoError(t, l.AddRemoteSubByOrigin([]byte(o), []byte("A"), []byte("foo"), []byte("q"), 1))
		require.NoError(t, l.AddRemoteSubByOrigin([]byte(o), []byte("A"), []byte("bar"), nil, 1))
	}
	require.Equal(t, 4, a.NumSubscriptions())
	l.RemoveRemoteSubByOrigin([]byte("C1"), []byte("A"), []byte("foo"), []byte("q"))
	l.RemoveRemoteSubFrom([]byte("A"), []byte("bar"), nil) // not keyed: nothing
	require.Equal(t, 3, a.NumSubscriptions())

	// Parked with the origin, registered with it.
	require.ErrorIs(t, l.AddRemoteSubByOrigin([]byte("C1"), []byte("X"), []byte("baz"), nil, 1), server.ErrUnknownAccount)
	require.ErrorIs(t, l.AddRemoteSubByOrigin([]byte("C2"), []byte("X"), []byte("baz"), nil, 1), server.ErrUnknownAccount)
	require.Equal(t, 2, l.NumParkedSubs())
	require.NoError(t, s.Reload(servertest.ConfigOptions(t, withX)))
	require.Equal(t, 3, l.NumParkedSubs(), "A's interest parked")
	x := s.LookupAccount("X")
	require.Equal(t, 2, x.NumSubscriptions())
	l.RemoveRemoteSubByOrigin([]byte("C2"), []byte("X"), []byte("baz"), nil)
	require.Equal(t, 1, x.NumSubscriptions())

	require.NoError(t, s.Reload(servertest.ConfigOptions(t, withA)))
	a = s.LookupAccount("A")
	require.Equal(t, 3, a.NumSubscriptions())
	l.RemoveRemoteSubByOrigin([]byte("C2"), []byte("A"), []byte("foo"), []byte("q"))
	l.RemoveRemoteSubByOrigin([]byte("C1"), []byte("A"), []byte("bar"), nil)
	l.RemoveRemoteSubByOrigin([]byte("C2"), []byte("A"), []byte("bar"), nil)
	require.Zero(t, a.NumSubscriptions())
}
