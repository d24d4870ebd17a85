//go:build unix

package browsertest

import (
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"natsd.dev/cmd/internal/wsserver"
	"natsd.dev/server"
	"natsd.dev/server/servertest"
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

// startChromium opens url in headless Chromium, which runs until the test
// ends. It runs in its own process group, killed by PID at cleanup so no
// renderer outlives the test. (--dump-dom with a virtual time budget is
// not usable here: virtual time runs the page's timeouts out while it
// waits on the WebSocket.)
func startChromium(t *testing.T, chromium, url string, extra ...string) *servertest.Logs {
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
	stderr := &servertest.Logs{}
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
	t.Run("wss", func(t *testing.T) { browserRequestReply(t, chromium, dir, servertest.NewPKI(t).ServerConfig(false)) })
}

func browserRequestReply(t *testing.T, chromium, dir string, tlsConfig *tls.Config) {
	results := make(chan string, 1)
	page := httptest.NewServer(pageHandler(dir, results)) // 127.0.0.1, free port
	defer page.Close()

	s := servertest.Start(t, server.Options{})
	ws, err := wsserver.Start(s, wsserver.Options{
		Host: "127.0.0.1", Port: server.RandomPort, NoTLS: tlsConfig == nil, TLSConfig: tlsConfig,
		Compression: true, AllowedOrigins: []string{page.URL},
	})
	require.NoError(t, err)

	responder := servertest.Connect(t, s)
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
	// The page closed its connection: only the responder remains.
	servertest.WaitUntil(t, "the page's connection to close", func() bool { return s.NumClients() == 1 })
}
