package server_test

import (
	"testing"

	"natsd.dev/confparse"
	"natsd.dev/server/config"
)

// applyText applies a configuration text (named test.conf in positions)
// to config.Default, with the core's keys only.
func applyText(t testing.TB, text string) (config.Config, confparse.ErrorList, error) {
	t.Helper()
	m, err := confparse.ParseWithOptions("test.conf", []byte(text), confparse.Options{
		Env: func(string) (string, bool) { return "", false },
	})
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	c := config.Default()
	w, err := c.Apply(m)
	return c, w, err
}
