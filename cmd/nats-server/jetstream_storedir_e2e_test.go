package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestJetStreamStoreDirNotUsable: with a store directory that cannot be
// one (a file in its place, which permissions cannot save even for root),
// the binary exits with an error naming the problem.
func TestJetStreamStoreDirNotUsable(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, []byte("x"), 0o600))
	code, _, stderr := runOnce(t, "-a", "127.0.0.1", "-p", "-1", "-js", "-sd", file)
	require.NotEqual(t, 0, code, stderr)
	require.True(t, strings.Contains(stderr, "[FTL]") && strings.Contains(stderr, "could not create storage directory"), stderr)
}
