package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"natsd.dev/server/servertest"
)

// TestClusterPermissionsAndBcryptFromConfigFile: a seed whose cluster
// authorization has a bcrypt password and whose permissions export
// public.> except public.secret; a second server dials it with the plain
// password. What the seed exports crosses, the rest does not.
func TestClusterPermissionsAndBcryptFromConfigFile(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two servers")
	}
	hash, err := bcrypt.GenerateFromPassword([]byte("T0pS3cr3t"), 4)
	require.NoError(t, err)
	dir := t.TempDir()
	seedConf := writeFile(t, filepath.Join(dir, "seed.conf"), fmt.Sprintf(`cluster {
  name: perms-e2e
  listen: 127.0.0.1:-1
  authorization { user: ruser, password: "%s", timeout: 1 }
  permissions { export: { allow: ["public.>", "done"], deny: "public.secret" } }
}
`, hash))
	code, _, errOut := runOnce(t, "-c", seedConf, "-t")
	require.Equal(t, 0, code, errOut)
	seed := start(t, "-c", seedConf)
	seed.waitLog("Listening for route connections on 127.0.0.1:")
	host := strings.TrimPrefix(seed.clusterURL(), "nats://")

	otherConf := writeFile(t, filepath.Join(dir, "other.conf"), `cluster {
  name: perms-e2e
  listen: 127.0.0.1:-1
  routes: [nats-route://ruser:T0pS3cr3t@`+host+`]
}
`)
	other := start(t, "-c", otherConf)
	ncSeed, ncOther := seed.connect(), other.connect()
	done, err := ncOther.SubscribeSync("done")
	require.NoError(t, err)
	public, err := ncOther.SubscribeSync("public.>")
	require.NoError(t, err)
	private, err := ncOther.SubscribeSync("private.>") // not exported: refused by the seed
	require.NoError(t, err)
	require.NoError(t, ncOther.Flush())
	// Wait until the route is up and the seed honours both interests.
	waitCross := func(subject string, next func(time.Duration) error) {
		t.Helper()
		for i := 0; i < 100; i++ {
			require.NoError(t, ncSeed.Publish(subject, nil))
			if next(50*time.Millisecond) == nil {
				return
			}
		}
		t.Fatalf("%s did not cross the route authorized with a bcrypt password", subject)
	}
	waitCross("done", func(d time.Duration) error { _, err := done.NextMsg(d); return err })
	waitCross("public.ping", func(d time.Duration) error { _, err := public.NextMsg(d); return err })
	for _, s := range []string{"private.x", "public.secret", "public.news", "done"} {
		require.NoError(t, ncSeed.Publish(s, []byte(s)))
	}
	require.NoError(t, ncSeed.Flush())
	for {
		m, err := done.NextMsg(2 * time.Second)
		require.NoError(t, err)
		if string(m.Data) == "done" {
			break
		}
	}
	for {
		m, err := public.NextMsg(2 * time.Second)
		require.NoError(t, err)
		if m.Subject != "public.ping" {
			require.Equal(t, "public.news", m.Subject)
			break
		}
	}
	// private.x went before "done" on the same route and connection.
	servertest.ExpectNoMsg(t, private) // a subject the seed does not export did not cross
}

// TestCheckConfigClusterPermissions: the check (-t) takes the cluster's
// permissions, reports bad subjects with positions, and warns (failing
// the check) about permissions inside the cluster's authorization, as
// upstream.
func TestCheckConfigClusterPermissions(t *testing.T) {
	dir := t.TempDir()
	bad := writeFile(t, filepath.Join(dir, "bad.conf"), "cluster {\n  port: 6999\n  permissions { import: \"a..b\", export: { allow: x, permit: y } }\n}\n")
	code, _, errOut := runOnce(t, "-c", bad, "-t")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, bad+`:3:25: subject "a..b" is not a valid subject`)
	require.Contains(t, errOut, bad+`:3:53: Unknown field name "permit" parsing subject permissions, only 'allow' or 'deny' are permitted`)

	warn := writeFile(t, filepath.Join(dir, "warn.conf"), "cluster {\n  port: 6999\n  authorization { user: u, password: p, permissions { export: x } }\n}\n")
	code, _, errOut = runOnce(t, "-c", warn, "-t")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, warn+`:3:41: setting "permissions" within cluster authorization block is deprecated`)
}
