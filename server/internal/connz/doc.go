// Package connz assembles the /connz document from plain data the core
// fills: it validates the options, keeps the ring of closed connections,
// computes the sort keys of closed ones, sorts and pages small keys, and
// renders times as upstream does. It never sees a live connection: the
// core copies each one's fields (under its own lock) into a
// snapshot.ConnInfo or a sort key and hands those over.
//
// # Concurrency
//
// Ring is safe for concurrent use; its mutex is a leaf lock. Everything
// else works on values the caller owns.
package connz
