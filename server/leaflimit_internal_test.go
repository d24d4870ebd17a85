package server

import (
	"testing"

	"natsd.dev/auth"
)

// An account JWT's leaf limit is the account's MaxLeafNodes (-1: none),
// which AddLeafNode enforces.
func TestLeafNodeLimit(t *testing.T) {
	if l := jwtLimits(&auth.AccountLimits{Conn: -1, LeafNodeConn: 2}); l.MaxLeafNodes != 2 || l.MaxConnections != -1 || !l.JWT {
		t.Fatalf("limits %+v", l)
	}
	if l := jwtLimits(&auth.AccountLimits{LeafNodeConn: -1}); l.MaxLeafNodes != -1 {
		t.Fatalf("no limit: %+v", l)
	}
	// In a JWT, as upstream, 0 admits no leaf node at all.
	z := &Account{Name: "Z"}
	z.limits.Store(&AccountLimits{MaxLeafNodes: 0, JWT: true})
	if z.AddLeafNode() {
		t.Fatal("a leaf node admitted by a JWT leaf limit of 0")
	}
	a := &Account{Name: "A"}
	a.limits.Store(&AccountLimits{MaxLeafNodes: 2})
	if !a.AddLeafNode() || !a.AddLeafNode() || a.AddLeafNode() {
		t.Fatal("the third leaf node of a limit of 2 was admitted, or one of the first two refused")
	}
	if a.NumLeafNodes() != 2 {
		t.Fatalf("%d leaf nodes counted", a.NumLeafNodes())
	}
	a.RemoveLeafNode()
	if !a.AddLeafNode() {
		t.Fatal("a leaf node refused after one left")
	}
	a.limits.Store(&AccountLimits{})
	if !a.AddLeafNode() || a.NumLeafNodes() != 3 {
		t.Fatal("no limit refused a leaf node")
	}
}
