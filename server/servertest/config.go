package servertest

import (
	"testing"

	"natsd.dev/confparse"
	"natsd.dev/server"
	"natsd.dev/server/config"
)

// ConfigOptions returns the server options of a configuration file's text
// (named test.conf in error positions, with no environment variables),
// applied to config.Default with the blocks registered so far. Parse
// errors and errors of Apply fail the test; warnings are ignored.
func ConfigOptions(tb testing.TB, text string) server.Options {
	tb.Helper()
	m, err := confparse.ParseWithOptions("test.conf", []byte(text), confparse.Options{
		Env: func(string) (string, bool) { return "", false },
	})
	if err != nil {
		tb.Fatalf("servertest: parse config: %v", err)
	}
	c := config.Default()
	if _, err := c.Apply(m); err != nil {
		tb.Fatalf("servertest: apply config: %v", err)
	}
	return c.Options
}

// StartConfig is Start with the options of a configuration file's text
// (see ConfigOptions).
func StartConfig(tb testing.TB, text string) *server.Server {
	tb.Helper()
	return Start(tb, ConfigOptions(tb, text))
}
