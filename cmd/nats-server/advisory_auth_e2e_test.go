package main

// Upstream nats-server's published security advisories that concern
// authentication, accounts, the system account, TLS and monitoring,
// replayed against the built binary: each test is named after the
// advisory, mounts the attack with raw sockets or nats.go and asserts it
// fails. docs/security.md lists every advisory and its test.

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"natsd.dev/server/servertest"
)

// rawClient dials p's client port and reads the INFO greeting.
func (p *proc) rawClient() *servertest.RawConn {
	p.t.Helper()
	rc := servertest.DialRaw(p.t, net.JoinHostPort("127.0.0.1", strconv.Itoa(p.port)))
	rc.Info = rc.ReadLine()
	require.True(p.t, strings.HasPrefix(rc.Info, "INFO {"), rc.Info)
	return rc
}

// alive fails the test unless p still serves a fresh client: an attack
// that crashed or wedged the server shows here.
func (p *proc) alive() {
	p.t.Helper()
	select {
	case <-p.done:
		p.t.Fatalf("nats-server exited: %v", p.err)
	default:
	}
	// An answer of any kind (PONG, or an Authorization Violation on a
	// server that wants credentials) shows it alive.
	rc := p.rawClient()
	rc.Send("CONNECT {\"verbose\":false,\"pedantic\":false}\r\nPING\r\n")
	line := rc.ReadLine()
	require.True(p.t, line == "PONG" || strings.HasPrefix(line, "-ERR "), line)
}

// CVE-2022-24450 (GHSA-g6w6-r76c-28j7): a client with valid credentials
// for one account named another account (the system account included) in
// its CONNECT ("account", with the experimental "new_account") and was
// placed in it. As upstream 2.15.2, a CONNECT naming an account (or
// asking for a new one) is an Authorization Violation, whatever its
// credentials; the same credentials without the field get in.
func TestAdvisoryCVE2022_24450_ConnectCannotChooseAccount(t *testing.T) {
	conf := writeFile(t, filepath.Join(t.TempDir(), "acc.conf"), `
accounts {
  A: { users: [{user: a, password: a}] }
  B: { users: [{user: b, password: b}] }
  SYS: { users: [{user: sys, password: sys}] }
}
system_account: SYS
`)
	p := start(t, "-c", conf)
	for _, fields := range []string{`"account":"B"`, `"account":"SYS"`, `"account":"A"`, `"new_account":true`} {
		rc := p.rawClient()
		rc.Send(`CONNECT {"verbose":false,"pedantic":false,"user":"a","pass":"a",` + fields + "}\r\n")
		rc.Send("SUB adv.x 1\r\nPING\r\n")
		require.Equal(t, "-ERR 'Authorization Violation'", rc.ReadLine(), "CONNECT with %s", fields)
		rc.ExpectClosed()
	}
	rc := p.rawClient()
	rc.Send(`CONNECT {"verbose":false,"pedantic":false,"user":"a","pass":"a"}` + "\r\nPING\r\n")
	require.Equal(t, "PONG", rc.ReadLine())
}

// CVE-2023-47090 (GHSA-fr2g-9hjm-wr23): with users in an authorization
// block and an accounts block holding only the system account, upstream
// made an implicit $G user the no_auth_user, so anyone connected without
// credentials. A client without credentials must be refused.
func TestAdvisoryCVE2023_47090_NoImplicitNoAuthUser(t *testing.T) {
	conf := writeFile(t, filepath.Join(t.TempDir(), "auth.conf"), `
authorization { users: [{user: u, password: p}] }
accounts { SYS: { users: [{user: sys, password: sys}] } }
system_account: SYS
`)
	p := start(t, "-c", conf)
	_, err := p.dial()
	require.Error(t, err)
	require.Contains(t, strings.ToLower(err.Error()), "authorization violation")
	rc := p.rawClient()
	rc.Send("CONNECT {\"verbose\":false,\"pedantic\":false}\r\nPING\r\n")
	require.Equal(t, "-ERR 'Authorization Violation'", rc.ReadLine())
	rc.ExpectClosed()
	p.connect(nats.UserInfo("u", "p")).Close()
}

// GHSA-hmmp-q8cx-v964 (NATS-advisory 2026-24): a client whose first
// operation was not CONNECT was made the no_auth_user without the user's
// allowed_connection_types being checked. A plain TCP client must not get
// a no_auth_user that is only allowed over WebSocket, neither by skipping
// CONNECT nor by sending an empty one.
func TestAdvisoryGHSA_hmmp_q8cx_v964_NoAuthUserConnectionTypes(t *testing.T) {
	conf := writeFile(t, filepath.Join(t.TempDir(), "noauth.conf"), `
authorization {
  users: [
    {user: webonly, password: w, allowed_connection_types: ["WEBSOCKET"]}
    {user: admin, password: a}
  ]
}
no_auth_user: webonly
websocket { host: 127.0.0.1, port: -1, no_tls: true }
`)
	p := start(t, "-c", conf)
	admin := p.connect(nats.UserInfo("admin", "a"))
	for _, first := range []string{"SUB adv.> 1\r\n", "PUB adv.x 2\r\nhi\r\n", "PING\r\n", "CONNECT {}\r\n"} {
		rc := p.rawClient()
		rc.Send(first + "SUB adv.> 1\r\nPING\r\n")
		require.NoError(t, admin.Publish("adv.x", []byte("secret")))
		require.NoError(t, admin.Flush())
		lines := readToClose(t, rc)
		require.Contains(t, lines, "-ERR 'Authorization Violation'", "first operation %q", first)
		require.NotContains(t, lines, "MSG adv.x", "first operation %q", first)
		require.NotContains(t, lines, "PONG", "first operation %q", first)
	}
	// The same user over WebSocket, its allowed type, is the no_auth_user.
	ws := servertest.ConnectURL(t, p.websocketURL())
	require.NoError(t, ws.Flush())
}

// readToClose returns the lines rc reads until the server closes it
// (at most servertest.RawTimeout).
func readToClose(t *testing.T, rc *servertest.RawConn) []string {
	t.Helper()
	var lines []string
	deadline := time.Now().Add(servertest.RawTimeout)
	for time.Now().Before(deadline) {
		line, err := rc.TryReadLine(time.Until(deadline))
		if line != "" {
			lines = append(lines, line)
		}
		if err != nil {
			require.ErrorIs(t, err, io.EOF, "read so far: %q", lines)
			return lines
		}
	}
	t.Fatalf("connection not closed; read %q", lines)
	return nil
}

// GHSA-38x3-76xf-cq45 (NATS-advisory 2026-16): with no_auth_user set, an
// unauthenticated peer on the route listener that skipped CONNECT was let
// through the client fast path and acted as a route. Operations before
// CONNECT on the cluster port must be refused and no message may reach
// the peer.
func TestAdvisoryGHSA_38x3_76xf_cq45_RouteListenerNoAuthUser(t *testing.T) {
	conf := writeFile(t, filepath.Join(t.TempDir(), "route.conf"), `
authorization { users: [{user: anon, password: x}] }
no_auth_user: anon
cluster {
  name: c1
  listen: 127.0.0.1:-1
  authorization { user: ru, password: rp }
}
`)
	p := start(t, "-c", conf)
	nc := p.connect()
	routeAddr := strings.TrimPrefix(p.clusterURL(), "nats://")
	for _, first := range []string{"RS+ $G adv.>\r\n", "SUB adv.> 1\r\n", "PING\r\n"} {
		rc := servertest.DialRaw(t, routeAddr)
		info := rc.ReadLine()
		require.True(t, strings.HasPrefix(info, "INFO {"), info)
		rc.Send(first + "RS+ $G adv.>\r\nSUB adv.> 1\r\nPING\r\n")
		require.NoError(t, nc.Publish("adv.x", []byte("secret")))
		require.NoError(t, nc.Flush())
		lines := readToClose(t, rc)
		for _, l := range lines {
			require.NotContains(t, l, "MSG adv.x", "first operation %q: %q", first, lines)
		}
	}
	p.alive()
}

// CVE-2021-32026 (GHSA-jj54-5q2m-q7pj): TLS configured from the command
// line (--tls --tlscert --tlskey) lost the server's restricted cipher
// suites and accepted every suite Go offers. A server configured by flags
// must accept exactly the TLS 1.2 suites that the same certificate in a
// tls {} block accepts, and neither accepts Go's insecure suites.
func TestAdvisoryCVE2021_32026_TLSFlagsKeepCipherSuites(t *testing.T) {
	pki := servertest.NewPKI(t)
	f := pki.Files()
	conf := writeFile(t, filepath.Join(t.TempDir(), "tls.conf"),
		fmt.Sprintf("tls { cert_file: %q, key_file: %q }\n", f.Cert, f.Key))
	fromFlags := start(t, "--tls", "--tlscert", f.Cert, "--tlskey", f.Key)
	fromFile := start(t, "-c", conf)
	// handshake reads the INFO line sent in the clear and then
	// handshakes offering only suite.
	handshake := func(p *proc, suite uint16) error {
		rc := p.rawClient()
		c := tls.Client(rc.Conn, &tls.Config{RootCAs: pki.Pool, ServerName: "localhost",
			MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{suite}})
		c.SetDeadline(time.Now().Add(3 * time.Second))
		return c.Handshake()
	}
	accepted := 0
	for _, s := range tls.CipherSuites() {
		errFlags, errFile := handshake(fromFlags, s.ID), handshake(fromFile, s.ID)
		require.Equal(t, errFile == nil, errFlags == nil, "suite %s: tls {} block %v, flags %v", s.Name, errFile, errFlags)
		if errFile == nil {
			accepted++
		}
	}
	require.NotZero(t, accepted)
	for _, s := range tls.InsecureCipherSuites() {
		require.Error(t, handshake(fromFlags, s.ID), "insecure suite %s with flags", s.Name)
		require.Error(t, handshake(fromFile, s.ID), "insecure suite %s with a tls {} block", s.Name)
	}
}

// CVE-2026-33247 (GHSA-x6g4-f6q3-fqvv): credentials given on the command
// line (--user/--pass, --auth) were visible to anyone reading the
// monitoring port (/debug/vars held argv). No monitoring endpoint may
// carry them.
func TestAdvisoryCVE2026_33247_ArgvSecretsNotInMonitoring(t *testing.T) {
	const pass, token = "argv-pass-5f1e", "argv-token-77c3"
	for _, args := range [][]string{{"--user", "u", "--pass", pass}, {"--auth", token}} {
		p := start(t, append([]string{"-m", "-1"}, args...)...)
		base := p.monitorURL()
		c := http.Client{Timeout: 5 * time.Second}
		for _, path := range []string{"/debug/vars", "/varz", "/connz", "/connz?auth=1", "/", "/subsz", "/accountz", "/healthz", "/metrics", "/stacksz"} {
			resp, err := c.Get(base + path)
			require.NoError(t, err, path)
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			require.NoError(t, err, path)
			require.NotContains(t, string(b), pass, path)
			require.NotContains(t, string(b), token, path)
		}
	}
}

// GHSA-q59r-vq66-pxc2 (NATS-advisory 2026-28): connection monitoring
// requests with pagination values that overflow (offset and limit near
// MaxInt64) crashed the server, reachable over $SYS.REQ subjects by any
// client of a no-auth server. Every way to ask must answer and leave the
// server up.
func TestAdvisoryGHSA_q59r_vq66_pxc2_ConnzPaginationOverflow(t *testing.T) {
	p := start(t, "-m", "-1")
	nc := p.connect()
	max := strconv.FormatInt(math.MaxInt64, 10)
	bodies := []string{
		`{"offset":` + max + `,"limit":` + max + `}`,
		`{"offset":1,"limit":` + max + `}`,
		`{"offset":` + max + `,"limit":1}`,
		`{"offset":-1,"limit":-1}`,
		`{"offset":-9223372036854775808,"limit":-9223372036854775808}`,
	}
	for _, subj := range []string{"$SYS.REQ.ACCOUNT.PING.CONNZ", "$SYS.REQ.SERVER.PING.CONNZ", "$SYS.REQ.ACCOUNT.$G.CONNZ",
		"$SYS.REQ.SERVER.PING.SUBSZ", "$SYS.REQ.ACCOUNT.$G.SUBSZ"} {
		for _, body := range bodies {
			// No answer (the subject not served to this account) is
			// fine; a crash is not.
			nc.Request(subj, []byte(body), 500*time.Millisecond)
			p.alive()
		}
	}
	c := http.Client{Timeout: 5 * time.Second}
	for _, q := range []string{"offset=" + max + "&limit=" + max, "offset=1&limit=" + max, "offset=" + max, "offset=-1&limit=-1"} {
		for _, path := range []string{"/connz?", "/connz?state=closed&", "/subsz?subs=1&"} {
			resp, err := c.Get(p.monitorURL() + path + q)
			require.NoError(t, err, path+q)
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			p.alive()
		}
	}
}

// CVE-2026-33248 (GHSA-3f24-pcvm-5jqc): with verify_and_map naming users
// by their certificate's subject DN, some RDN patterns let a certificate
// with a different subject map onto a user. Certificates from the trusted
// CA whose subjects only resemble the user's DN (a value holding the
// separators, an extra RDN, the two attributes in one multi-valued RDN)
// must be refused; the exact subject, in any RDN order, is accepted.
func TestAdvisoryCVE2026_33248_VerifyAndMapDNPatterns(t *testing.T) {
	pki := servertest.NewPKI(t)
	f := pki.Files()
	dir := t.TempDir()
	conf := writeFile(t, filepath.Join(dir, "map.conf"), fmt.Sprintf(`
tls { cert_file: %q, key_file: %q, ca_file: %q, verify_and_map: true }
authorization { users: [{user: "CN=alice,O=natsd"}] }
`, f.Cert, f.Key, f.CA))
	p := start(t, "-c", conf)
	issue := func(rdns pkix.RDNSequence) tls.Certificate {
		raw, err := asn1.Marshal(rdns)
		require.NoError(t, err)
		return pki.Issue(&x509.Certificate{RawSubject: raw, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	}
	cn := func(v string) pkix.AttributeTypeAndValue {
		return pkix.AttributeTypeAndValue{Type: []int{2, 5, 4, 3}, Value: v}
	}
	o := func(v string) pkix.AttributeTypeAndValue {
		return pkix.AttributeTypeAndValue{Type: []int{2, 5, 4, 10}, Value: v}
	}
	ou := func(v string) pkix.AttributeTypeAndValue {
		return pkix.AttributeTypeAndValue{Type: []int{2, 5, 4, 11}, Value: v}
	}
	connect := func(c tls.Certificate) error {
		nc, err := nats.Connect(p.url(), nats.Secure(pki.ClientConfig(c)), nats.NoReconnect(), nats.Timeout(3*time.Second))
		if err == nil {
			nc.Close()
		}
		return err
	}
	require.NoError(t, connect(pki.Client("alice")), "the exact subject (CN=alice,O=natsd)")
	require.NoError(t, connect(issue(pkix.RDNSequence{{cn("alice")}, {o("natsd")}})), "the subject in the other RDN order")
	for name, rdns := range map[string]pkix.RDNSequence{
		"a CN holding the separator":         {{cn("alice,O=natsd")}},
		"a CN holding an escaped separator":  {{cn(`alice\,O=natsd`)}},
		"a CN holding a NUL and a separator": {{cn("alice\x00,O=natsd")}},
		"an extra RDN":                       {{cn("alice")}, {ou("x")}, {o("natsd")}},
		"an extra value in an RDN":           {{cn("alice"), ou("x")}, {o("natsd")}},
		"another CN first":                   {{cn("mallory")}, {cn("alice")}, {o("natsd")}},
		"another CN last":                    {{cn("alice")}, {cn("mallory")}, {o("natsd")}},
		"another O":                          {{cn("alice")}, {o("natsd")}, {o("evil")}},
		"only the CN":                        {{cn("alice")}},
	} {
		require.Error(t, connect(issue(rdns)), name)
	}
}

// CVE-2025-68121 (NATS-advisory 2026-01): a Go crypto/tls bug reachable
// with mTLS and different CA bundles per listener; fixed by building with
// Go 1.24.13, 1.25.7 or later. The binary under test must be built so.
func TestAdvisoryCVE2025_68121_GoToolchain(t *testing.T) {
	out, err := exec.Command("go", "version", binary).CombinedOutput()
	require.NoError(t, err, "%s", out)
	m := regexp.MustCompile(`go(\d+)\.(\d+)(?:\.(\d+))?`).FindStringSubmatch(string(out))
	require.NotNil(t, m, "%s", out)
	major, _ := strconv.Atoi(m[1])
	minor, _ := strconv.Atoi(m[2])
	patch, _ := strconv.Atoi(m[3])
	require.Equal(t, 1, major)
	switch {
	case minor >= 26:
	case minor == 25:
		require.GreaterOrEqual(t, patch, 7, "%s", out)
	case minor == 24:
		require.GreaterOrEqual(t, patch, 13, "%s", out)
	default:
		t.Fatalf("built with an unfixed Go: %s", out)
	}
}

// jsonBody is a tiny helper for tests that build JSON requests inline.
func jsonBody(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

// GHSA-g33f-6538-grxh (NATS-advisory 2026-23): a truncated public key
// taken from a client's credentials before authentication reached Ed25519
// verification with a wrong length and panicked the server (operator
// mode, where the key came from a client JWT). natsd has no operator mode,
// but nkey users verify a client signature before authentication: CONNECTs
// with truncated, overlong and malformed keys, signatures and JWTs must
// each be refused, and the server keep serving.
func TestAdvisoryGHSA_g33f_6538_grxh_MalformedKeysPreAuth(t *testing.T) {
	const user = "UCRMFPYNLLFTMYO2ZJMVXLAAWBR5LNP7DR4JTGVIWTXN5NY5AN5DU34V"
	conf := writeFile(t, filepath.Join(t.TempDir(), "nkey.conf"),
		fmt.Sprintf("authorization { users: [{nkey: %s}] }\n", user))
	p := start(t, "-c", conf)
	jwtish := "eyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ." +
		"eyJpc3MiOiJBQkMiLCJzdWIiOiJVQUJDIiwibmF0cyI6eyJ0eXBlIjoidXNlciJ9fQ.AAAA"
	for _, fields := range []string{
		`"nkey":"` + user + `","sig":"AAAA"`,
		`"nkey":"` + user + `","sig":""`,
		`"nkey":"` + user + `","sig":"` + strings.Repeat("A", 300) + `"`,
		`"nkey":"` + user + `","sig":"!!not base64!!"`,
		`"nkey":"` + user[:20] + `","sig":"AAAA"`,
		`"nkey":"U","sig":"AAAA"`,
		`"nkey":"` + user + "AAAA" + `","sig":"AAAA"`,
		`"nkey":"` + strings.Replace(user, "U", "A", 1) + `","sig":"AAAA"`,
		`"jwt":"` + jwtish + `","sig":"AAAA"`,
		`"jwt":"` + jwtish + `","nkey":"` + user[:10] + `","sig":"AAAA"`,
		`"jwt":"a.b.c"`,
	} {
		rc := p.rawClient()
		rc.Send(`CONNECT {"verbose":false,"pedantic":false,` + fields + "}\r\nPING\r\n")
		require.Equal(t, "-ERR 'Authorization Violation'", rc.ReadLine(), fields)
		rc.ExpectClosed()
	}
	p.alive()
}

// CVE-2023-46129 (GHSA-mr45-rx8q-wcm9): nkeys' xkey Seal used a fixed key
// for all encryption, fixed in nkeys v0.4.6. natsd does not seal anything
// with xkeys (no auth callout), but the binary must not link a vulnerable
// nkeys either.
func TestAdvisoryCVE2023_46129_NkeysVersion(t *testing.T) {
	out, err := exec.Command("go", "version", "-m", binary).CombinedOutput()
	require.NoError(t, err, "%s", out)
	m := regexp.MustCompile(`dep\s+github\.com/nats-io/nkeys\s+v0\.(\d+)\.(\d+)`).FindStringSubmatch(string(out))
	if m == nil {
		return // not linked at all
	}
	minor, _ := strconv.Atoi(m[1])
	patch, _ := strconv.Atoi(m[2])
	require.True(t, minor > 4 || minor == 4 && patch >= 6, "nkeys v0.%d.%d", minor, patch)
}

// CVE-2022-28357: a publisher in the system account made the server write
// a file anywhere (account claim updates named the file). natsd keeps no
// account resolver, so claim updates are not taken: requests with
// climbing account names must leave no file behind and the server up.
func TestAdvisoryCVE2022_28357_SystemAccountClaimsNoFileWrite(t *testing.T) {
	dir := t.TempDir()
	conf := writeFile(t, filepath.Join(dir, "sys.conf"), `
accounts { SYS: { users: [{user: sys, password: sys}] } }
system_account: SYS
`)
	p := start(t, "-c", conf)
	cmd := exec.Command("ls", "-a", "/proc/"+strconv.Itoa(p.cmd.Process.Pid)+"/cwd/")
	before, _ := cmd.Output()
	sys := p.connect(nats.UserInfo("sys", "sys"))
	target := filepath.Join(dir, "pwned")
	rel := strings.Repeat("../", 16) + strings.TrimPrefix(target, "/")
	for _, subj := range []string{
		"$SYS.REQ.CLAIMS.UPDATE",
		"$SYS.REQ.ACCOUNT." + rel + ".CLAIMS.UPDATE",
		"$SYS.ACCOUNT." + rel + ".CLAIMS.UPDATE",
		"$SYS.REQ.CLAIMS.PACK",
		"$SYS.REQ.CLAIMS.DELETE",
	} {
		sys.Request(subj, []byte("eyJ0eXAiOiJKV1QifQ.eyJzdWIiOiIuLi8uLi9wd25lZCJ9.AAAA"), 300*time.Millisecond)
	}
	require.NoError(t, sys.Flush())
	_, err := os.Stat(target)
	require.True(t, os.IsNotExist(err), "a claims update wrote %s", target)
	after, _ := exec.Command("ls", "-a", "/proc/"+strconv.Itoa(p.cmd.Process.Pid)+"/cwd/").Output()
	require.Equal(t, string(before), string(after), "the server's working directory changed")
	p.alive()
}
