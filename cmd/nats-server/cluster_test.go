package main

import (
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"natsd.dev/cluster"
)

// clusterFrom parses text as a configuration file and args as flags and
// returns the cluster options loadCluster gives.
func clusterFrom(t *testing.T, text string, args ...string) (*cluster.Options, error) {
	t.Helper()
	path := writeFile(t, filepath.Join(t.TempDir(), "c.conf"), text)
	cfg, _, err := parseConfigFile(path)
	require.NoError(t, err)
	f, err := parseFlags(args, io.Discard)
	require.NoError(t, err)
	return loadCluster(cfg, f)
}

func TestClusterFlagsOverrideFile(t *testing.T) {
	const file = `cluster {
  name: file
  listen: 127.0.0.1:6222
  advertise: "a:1"
  routes: [nats-route://u:p@127.0.0.1:7000]
  authorization { user: u, password: p }
  connect_retries: 2
}
`
	co, err := clusterFrom(t, file)
	require.NoError(t, err)
	require.True(t, clusterOn(co))
	require.Equal(t, "file", co.Name)
	require.Equal(t, 6222, co.Port)
	require.Equal(t, "u", co.Username)

	co, err = clusterFrom(t, file, "--cluster", "nats://ru:rp@127.0.0.2:-1", "--routes", "nats://127.0.0.1:1, nats://127.0.0.1:2",
		"--cluster_name", "flag", "--cluster_advertise", "b:2", "--no_advertise", "--connect_retries", "9")
	require.NoError(t, err)
	require.Equal(t, "127.0.0.2", co.Host)
	require.Equal(t, 0, co.Port, "port -1 is a random port")
	require.Equal(t, "ru", co.Username)
	require.Equal(t, "rp", co.Password)
	require.Len(t, co.Routes, 2)
	require.Equal(t, "127.0.0.1:2", co.Routes[1].Host)
	require.Equal(t, "flag", co.Name)
	require.Equal(t, "b:2", co.Advertise)
	require.True(t, co.NoAdvertise)
	require.Equal(t, 9, co.ConnectRetries)

	// --cluster_listen without credentials clears the file's.
	co, err = clusterFrom(t, file, "--cluster_listen", "nats://127.0.0.1:6333")
	require.NoError(t, err)
	require.Equal(t, 6333, co.Port)
	require.Empty(t, co.Username)

	// Flags alone turn clustering on.
	co, err = clusterFrom(t, "port: 4222\n", "--cluster", "nats://127.0.0.1:6444")
	require.NoError(t, err)
	require.True(t, clusterOn(co))
	co, err = clusterFrom(t, "port: 4222\n")
	require.NoError(t, err)
	require.False(t, clusterOn(co))
}

func TestClusterFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		err  string
	}{
		{[]string{"--cluster", "nats://127.0.0.1"}, `--cluster "nats://127.0.0.1": could not parse address string "127.0.0.1"`},
		{[]string{"--cluster", "nats://u@127.0.0.1:6222"}, "expected cluster password to be set"},
		{[]string{"--routes", "127.0.0.1:6222"}, `--routes: error parsing route url ["127.0.0.1:6222"]`},
		{[]string{"--cluster_name", "a b"}, "cluster name cannot contain spaces or new lines"},
	} {
		_, err := clusterFrom(t, "", tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%v: %v, want %q", tc.args, err, tc.err)
		}
	}
}

func TestSameCluster(t *testing.T) {
	a, err := clusterFrom(t, "cluster { listen: 6222, routes: [nats://h:1] }")
	require.NoError(t, err)
	b, err := clusterFrom(t, "cluster { listen: 6222, routes: [nats://h:1] }")
	require.NoError(t, err)
	require.True(t, sameCluster(a, b))
	c, err := clusterFrom(t, "cluster { listen: 6222, routes: [nats://h:2] }")
	require.NoError(t, err)
	require.False(t, sameCluster(a, c))
}
