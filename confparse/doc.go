// Package confparse parses the NATS configuration language into a tree of
// values that remember where they were written.
package confparse
