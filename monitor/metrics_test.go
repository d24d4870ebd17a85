package monitor_test

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"natsd.dev/monitor"
	"natsd.dev/server"
	"natsd.dev/server/servertest"
)

// exposition is a parsed metrics page.
type exposition struct {
	types   map[string]string  // family -> type
	help    map[string]string  // family -> help (unescaped)
	samples map[string]float64 // name{labels as written} -> value
	eof     bool
}

var (
	metricNameRE = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)
	labelRE      = regexp.MustCompile(`^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"$`)
)

// parseExposition checks the page line by line against the text format
// (or OpenMetrics) rules and returns what it holds.
func parseExposition(t *testing.T, body []byte, openMetrics bool) *exposition {
	t.Helper()
	ex := &exposition{types: map[string]string{}, help: map[string]string{}, samples: map[string]float64{}}
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	current := ""
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		require.False(t, ex.eof, "line %d after # EOF", n)
		switch {
		case line == "# EOF":
			require.True(t, openMetrics, "# EOF in text format")
			ex.eof = true
		case strings.HasPrefix(line, "# HELP "):
			name, help, ok := strings.Cut(line[len("# HELP "):], " ")
			require.True(t, ok, "line %d", n)
			require.Regexp(t, metricNameRE, name)
			require.NotContains(t, ex.help, name, "duplicate HELP")
			ex.help[name] = help
		case strings.HasPrefix(line, "# TYPE "):
			name, typ, ok := strings.Cut(line[len("# TYPE "):], " ")
			require.True(t, ok, "line %d", n)
			require.Contains(t, []string{"gauge", "counter"}, typ)
			require.Contains(t, ex.help, name, "TYPE before HELP for %s", name)
			ex.types[name] = typ
			current = name
		case strings.HasPrefix(line, "#"):
			t.Fatalf("line %d: unexpected comment %q", n, line)
		default:
			i := strings.LastIndexByte(line, ' ')
			require.Positive(t, i, "line %d", n)
			series, val := line[:i], line[i+1:]
			v, err := strconv.ParseFloat(val, 64)
			require.NoError(t, err, "line %d value", n)
			name := series
			if j := strings.IndexByte(series, '{'); j >= 0 {
				name = series[:j]
				require.True(t, strings.HasSuffix(series, "}"), "line %d", n)
				for _, l := range splitLabels(series[j+1 : len(series)-1]) {
					require.Regexp(t, labelRE, l, "line %d", n)
				}
			}
			require.Regexp(t, metricNameRE, name)
			// The sample belongs to the family announced last.
			want := current
			if openMetrics && ex.types[current] == "counter" {
				want = current + "_total"
			}
			require.Equal(t, want, name, "line %d: sample outside its family", n)
			ex.samples[series] = v
		}
	}
	require.NoError(t, sc.Err())
	require.Equal(t, openMetrics, ex.eof)
	return ex
}

// splitLabels splits a{...} contents at commas outside quotes.
func splitLabels(s string) []string {
	var out []string
	start, inQ := 0, false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			inQ = !inQ
		case ',':
			if !inQ {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}

func TestMetricsText(t *testing.T) {
	e := start(t, server.Options{ServerName: `we"ird\name`}, monitor.Options{})
	nc := e.connect(t)
	_, err := nc.SubscribeSync("m")
	require.NoError(t, err)
	require.NoError(t, nc.Publish("m", []byte("abc")))
	require.NoError(t, nc.Flush())
	e.get(t, "/varz")

	code, ct, body := e.get(t, "/metrics")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "text/plain; version=0.0.4; charset=utf-8", ct)
	ex := parseExposition(t, body, false)
	require.Equal(t, "gauge", ex.types["natsd_varz_connections"])
	require.Equal(t, "counter", ex.types["natsd_varz_in_msgs_total"])
	require.EqualValues(t, 1, ex.samples["natsd_varz_connections"])
	require.EqualValues(t, 1, ex.samples["natsd_varz_in_msgs_total"])
	require.EqualValues(t, 3, ex.samples["natsd_varz_in_bytes_total"])
	require.EqualValues(t, 1, ex.samples["natsd_varz_subscriptions"])
	require.EqualValues(t, 1, ex.samples[`natsd_account_subscriptions{account="$G"}`])
	require.EqualValues(t, 1, ex.samples[`natsd_account_connections{account="$G"}`])
	require.EqualValues(t, 1, ex.samples[`natsd_varz_http_requests_total{path="/varz"}`])
	require.EqualValues(t, 1, ex.samples["natsd_healthz_ok"])
	info := fmt.Sprintf(`natsd_varz_info{server_id="%s",server_name="we\"ird\\name",version="%s",go=`, e.srv.ID(), server.Version)
	found := false
	for k := range ex.samples {
		found = found || strings.HasPrefix(k, info)
	}
	require.True(t, found, "escaped info labels")
}

func TestMetricsOpenMetrics(t *testing.T) {
	e := start(t, server.Options{}, monitor.Options{})
	code, ct, body := e.get(t, "/metrics", "Accept", "application/openmetrics-text;version=1.0.0,text/plain;q=0.5")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "application/openmetrics-text; version=1.0.0; charset=utf-8", ct)
	ex := parseExposition(t, body, true)
	require.Equal(t, "counter", ex.types["natsd_varz_in_msgs"])
	require.Contains(t, ex.samples, "natsd_varz_in_msgs_total")
	require.Equal(t, "gauge", ex.types["natsd_varz_connections"])
}

func TestHTTPS(t *testing.T) {
	p := servertest.NewPKI(t)
	cfg, pool := p.ServerConfig(false), p.Pool
	e := start(t, server.Options{}, monitor.Options{Port: -1, HTTPSPort: -1, TLSConfig: cfg})
	require.NotNil(t, e.mon.HTTPSAddr())
	cl := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := cl.Get("https://" + e.mon.HTTPSAddr().String() + "/varz")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.NotNil(t, resp.TLS)
	v := e.getJSON(t, "/varz") // the plain listener too
	require.EqualValues(t, e.mon.HTTPSAddr().(*net.TCPAddr).Port, v["https_port"])
}

func TestConnzTLS(t *testing.T) {
	p := servertest.NewPKI(t)
	cfg, pool := p.ServerConfig(false), p.Pool
	e := start(t, server.Options{}, monitor.Options{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	require.NoError(t, e.srv.Serve(tls.NewListener(ln, cfg)))
	// The core has no TLS negotiation in INFO yet, so speak the protocol
	// over a TLS-first connection by hand.
	nc, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", ln.Addr().String(), &tls.Config{RootCAs: pool})
	require.NoError(t, err)
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	_, err = nc.Write([]byte("CONNECT {\"lang\":\"raw\",\"name\":\"tls\"}\r\nPING\r\n"))
	require.NoError(t, err)
	r := bufio.NewReader(nc)
	for {
		line, err := r.ReadString('\n')
		require.NoError(t, err)
		if line == "PONG\r\n" {
			break
		}
	}
	c := e.getJSON(t, "/connz")["connections"].([]any)[0].(map[string]any)
	require.Equal(t, "1.3", c["tls_version"])
	require.Equal(t, "TLS_AES_128_GCM_SHA256", c["tls_cipher_suite"])
	nc.Close()
	require.Eventually(t, func() bool {
		l := e.getJSON(t, "/connz?state=closed")["connections"].([]any)
		return len(l) == 1 && l[0].(map[string]any)["tls_version"] == "1.3"
	}, 5*time.Second, 20*time.Millisecond)
}
