//go:build unix

package browsertest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"natsd.dev/cmd/internal/wsserver"
	"natsd.dev/server"
)

// browserTimeout bounds the wait for the page's result; the page needs
// well under a second once the browser is up.
const browserTimeout = 30 * time.Second

// findChromium returns the Chromium binary, or "" when there is none.
func findChromium() string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// buildBundle runs the page's npm build (esbuild) and returns the
// directory to serve: testdata, with dist/bundle.js next to index.html.
func buildBundle(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("testdata")
	require.NoError(t, err)
	if _, err := os.Stat(filepath.Join(dir, "node_modules", ".bin", "esbuild")); err != nil {
		t.Skip("browser test: testdata/node_modules missing; run `npm ci` in cmd/browsertest/testdata (.ci/run does)")
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		t.Skip("browser test: npm not installed")
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "run", "build", "--silent")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "npm run build:\n%s", out)
	return dir
}

// pageHandler serves index.html and the bundle, and passes what the page
// POSTs to /result on to results.
func pageHandler(dir string, results chan<- string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/", "/index.html":
			http.ServeFile(w, r, filepath.Join(dir, "index.html"))
		case "/bundle.js":
			w.Header().Set("Content-Type", "text/javascript")
			http.ServeFile(w, r, filepath.Join(dir, "dist", "bundle.js"))
		case "/result":
			b, _ := io.ReadAll(io.LimitReader(r.Body, 4096))
			select {
			case results <- string(b):
			default:
			}
		default:
			http.NotFound(w, r)
		}
	})
}

// lockedBuffer collects a process's output while the test may read it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startChromium opens url in headless Chromium, which runs until the test
// ends. It runs in its own process group, killed by PID at cleanup so no
// renderer outlives the test. (--dump-dom with a virtual time budget is
// not usable here: virtual time runs the page's timeouts out while it
// waits on the WebSocket.)
func startChromium(t *testing.T, chromium, url string, extra ...string) *lockedBuffer {
	t.Helper()
	args := []string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage", "--no-default-browser-check", "--mute-audio",
		"--user-data-dir=" + t.TempDir(),
		// Keeps the headless browser running; listens on loopback only.
		"--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
	}
	args = append(append(args, extra...), url)
	cmd := exec.Command(chromium, args...)
	stderr := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = io.Discard, stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, cmd.Start())
	pid := cmd.Process.Pid
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		syscall.Kill(-pid, syscall.SIGKILL)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Errorf("chromium (pid %d) did not exit after SIGKILL", pid)
		}
	})
	return stderr
}

// TestBrowserRequestReply: a page in headless Chromium connects to natsd
// over WebSocket (ws:// and wss://) with @nats-io/nats-core's wsconnect,
// loops a message through the server and makes requests that a nats.go
// client answers over TCP, one of them 148 KB of text that crosses
// compressed both ways. The server only accepts the page's own origin.
func TestBrowserRequestReply(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test: skipped in -short mode")
	}
	chromium := findChromium()
	if chromium == "" {
		t.Skip("browser test: chromium not installed (apt-get install chromium; .ci/run does)")
	}
	dir := buildBundle(t)
	t.Run("ws", func(t *testing.T) { browserRequestReply(t, chromium, dir, nil) })
	t.Run("wss", func(t *testing.T) { browserRequestReply(t, chromium, dir, selfSigned(t)) })
}

// selfSigned returns a TLS configuration with a throwaway certificate for
// 127.0.0.1; Chromium is told to accept it.
func selfSigned(t *testing.T) *tls.Config {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "natsd browser test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	return &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
}

func browserRequestReply(t *testing.T, chromium, dir string, tlsConfig *tls.Config) {
	results := make(chan string, 1)
	page := httptest.NewServer(pageHandler(dir, results)) // 127.0.0.1, free port
	defer page.Close()

	s, err := server.New(server.Options{Host: "127.0.0.1", Port: server.RandomPort})
	require.NoError(t, err)
	require.NoError(t, s.Start())
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, s.Shutdown(ctx))
	}()
	ws, err := wsserver.Start(s, wsserver.Options{
		Host: "127.0.0.1", Port: server.RandomPort, NoTLS: tlsConfig == nil, TLSConfig: tlsConfig,
		Compression: true, AllowedOrigins: []string{page.URL},
	})
	require.NoError(t, err)

	responder, err := nats.Connect(s.ClientURL(), nats.NoReconnect())
	require.NoError(t, err)
	defer responder.Close()
	asked := make(chan string, 1)
	_, err = responder.Subscribe("browser.echo", func(m *nats.Msg) {
		select {
		case asked <- string(m.Data):
		default:
		}
		m.Respond(append([]byte("echo: "), m.Data...))
	})
	require.NoError(t, err)
	require.NoError(t, responder.Flush())

	var extra []string
	if tlsConfig != nil {
		extra = append(extra, "--ignore-certificate-errors")
	}
	url := page.URL + "/?ws=" + ws.URL() + "&subject=browser.echo"
	stderr := startChromium(t, chromium, url, extra...)
	var result string
	select {
	case result = <-results:
	case <-time.After(browserTimeout):
		t.Fatalf("no result from the page within %v; chromium stderr:\n%s", browserTimeout, stderr)
	}
	require.Equal(t, "OK loop-ok echo: hello from chromium big-ok", result)
	select {
	case q := <-asked:
		require.Equal(t, "hello from chromium", q)
	default:
		t.Fatal("the responder was never asked")
	}
	// The page closed its connection.
	for range 500 {
		if s.NumClients() == 1 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	require.Equal(t, 1, s.NumClients(), "only the responder should remain")
}
