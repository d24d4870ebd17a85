//go:build race

package server_test

// underRace: sync.Pool drops items at random under the race detector, so
// allocation counts mean nothing there.
const underRace = true
