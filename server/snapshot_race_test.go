//go:build race

package server

// raceEnabled: the race detector allows at most 8128 live goroutines, so
// tests with ten thousand connections skip under it.
const raceEnabled = true
