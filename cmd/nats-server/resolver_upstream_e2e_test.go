package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
	"github.com/stretchr/testify/require"
)

// TestResolverFullUpstreamE2E runs the same full resolver session against
// upstream's binary (NATSD_UPSTREAM_SERVER) and ours: pushes, a lookup, a
// list and deletes, good and bad, get the same answers (the server info
// aside), and both keep the same files.
func TestResolverFullUpstreamE2E(t *testing.T) {
	up := os.Getenv("NATSD_UPSTREAM_SERVER")
	if up == "" {
		t.Skip("NATSD_UPSTREAM_SERVER is not set")
	}
	st := newResolverSetup(t)
	otherOp, _ := nkeys.CreateOperator()
	aJWT := st.accountJWT(t, nil)
	del := func(kp nkeys.KeyPair, accounts ...string) string {
		pub, _ := kp.PublicKey()
		gc := jwt.NewGenericClaims(pub)
		gc.Data["accounts"] = accounts
		tok, err := gc.Encode(kp)
		require.NoError(t, err)
		return tok
	}
	steps := []struct{ subject, body string }{
		{"$SYS.REQ.CLAIMS.UPDATE", aJWT},
		{"$SYS.REQ.ACCOUNT." + st.aPub + ".CLAIMS.UPDATE", aJWT},
		{"$SYS.REQ.CLAIMS.UPDATE", "garbage"},
		{"$SYS.REQ.ACCOUNT." + st.sysPub + ".CLAIMS.UPDATE", aJWT},
		{"$SYS.REQ.ACCOUNT." + st.aPub + ".CLAIMS.LOOKUP", ""},
		{"$SYS.REQ.ACCOUNT." + st.sysPub + "X.CLAIMS.LOOKUP", ""},
		{"$SYS.REQ.CLAIMS.LIST", ""},
		{"$SYS.REQ.CLAIMS.DELETE", del(otherOp, st.aPub)},
		{"$SYS.REQ.CLAIMS.DELETE", del(st.opKP, st.sysPub)},
		{"$SYS.REQ.CLAIMS.DELETE", "garbage"},
		{"$SYS.REQ.CLAIMS.DELETE", del(st.opKP, st.aPub)},
		{"$SYS.REQ.CLAIMS.LIST", ""},
	}
	run := func(bin, name string) ([]string, []string) {
		dir := filepath.Join(st.dir, name)
		require.NoError(t, os.MkdirAll(dir, 0o755))
		writeFile(t, filepath.Join(dir, st.sysPub+".jwt"), st.sysJWT)
		conf := writeFile(t, filepath.Join(st.dir, name+".conf"), `
operator: "`+st.opFile+`"
system_account: `+st.sysPub+`
resolver: { type: full, dir: "`+dir+`", allow_delete: true }
`)
		p := startBinary(t, bin, "-c", conf)
		sys := p.connect(nats.UserCredentials(st.sysCreds))
		var out []string
		for _, s := range steps {
			m, err := sys.Request(s.subject, []byte(s.body), 3*time.Second)
			if err != nil {
				out = append(out, s.subject+": "+err.Error())
				continue
			}
			var doc map[string]any
			if json.Unmarshal(m.Data, &doc) != nil {
				out = append(out, s.subject+": "+string(m.Data))
				continue
			}
			delete(doc, "server")
			if l, ok := doc["data"].([]any); ok {
				slices.SortFunc(l, func(a, b any) int {
					if a.(string) < b.(string) {
						return -1
					}
					return 1
				})
			}
			b, _ := json.Marshal(doc)
			out = append(out, s.subject+": "+string(b))
		}
		ents, err := os.ReadDir(dir)
		require.NoError(t, err)
		var files []string
		for _, e := range ents {
			files = append(files, e.Name())
		}
		return out, files
	}
	upOut, upFiles := run(up, "up")
	ourOut, ourFiles := run(binary, "ours")
	for i := range upOut {
		t.Logf("upstream: %s\nours:     %s", upOut[i], ourOut[i])
	}
	require.Equal(t, upOut, ourOut)
	require.Equal(t, upFiles, ourFiles)
}
