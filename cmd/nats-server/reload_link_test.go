package main

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"natsd.dev/server/servertest"
)

// A reload logs the tls {} blocks of leaf node remotes and gateways whose
// content changed, by the remote.
func TestPlanLinkTLS(t *testing.T) {
	f1, f2 := servertest.NewPKI(t).Files(), servertest.NewPKI(t).Files()
	tlsBlock := func(f servertest.Files) string {
		return fmt.Sprintf("tls { cert_file: %q, key_file: %q, ca_file: %q }", f.Cert, f.Key, f.CA)
	}
	leafConf := func(f servertest.Files) string {
		return "leafnodes { remotes: [ { url: \"tls://h:7422\", " + tlsBlock(f) + " } ] }\n"
	}
	changed, refused := keysOf(planFor(t, leafConf(f1), leafConf(f2)))
	require.Empty(t, refused)
	require.Equal(t, []string{`LeafNode Remote urls=["tls://h:7422"], account="$G" tls`}, changed)

	gwConf := func(f servertest.Files) string {
		return "gateway { name: A, port: 7522, " + tlsBlock(f) + ", gateways: [ { name: B, url: \"nats://h:7522\", " + tlsBlock(f) + " } ] }\n"
	}
	changed, refused = keysOf(planFor(t, gwConf(f1), gwConf(f2)))
	require.Empty(t, refused)
	require.Equal(t, []string{"gateway tls", `gateway remote "B" tls`}, changed)
}
