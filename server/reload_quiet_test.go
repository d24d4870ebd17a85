package server_test

import (
	"strings"
	"testing"

	"natsd.dev/server"
	"natsd.dev/server/servertest"
)

// TestReloadQuiet: ReloadQuiet applies the options as Reload does and
// logs nothing (the composing binary logs once its modules applied their
// part); ReloadLogged logs the changed keys and the closing line.
func TestReloadQuiet(t *testing.T) {
	s, logs := servertest.StartWithLogs(t, server.Options{MaxPayload: 1024})
	opts := server.Options{MaxPayload: 2048, Logger: logs.Logger(server.LevelTrace)}
	if err := s.ReloadQuiet(opts); err != nil {
		t.Fatal(err)
	}
	if nc := servertest.Connect(t, s); nc.MaxPayload() != 2048 {
		t.Fatalf("max_payload %d after ReloadQuiet, want 2048", nc.MaxPayload())
	}
	if logs.Contains("Reloaded") {
		t.Fatalf("ReloadQuiet logged:\n%s", logs.String())
	}
	opts.MaxPayload = 4096
	if err := s.ReloadLogged(opts, []string{"max_payload = 4096"}, "sha256:x"); err != nil {
		t.Fatal(err)
	}
	if nc := servertest.Connect(t, s); nc.MaxPayload() != 4096 {
		t.Fatalf("max_payload %d after ReloadLogged, want 4096", nc.MaxPayload())
	}
	out := logs.String()
	i, j := strings.Index(out, "Reloaded: max_payload = 4096"), strings.Index(out, "Reloaded server configuration (sha256:x)")
	if i < 0 || j < i || strings.Count(out, "Reloaded server configuration") != 1 {
		t.Fatalf("ReloadLogged's lines:\n%s", out)
	}
}
