//go:build unix

package browsertest

import (
	"bytes"
	"context"
	"html"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"natsd.dev/server"
)

// browserTimeout bounds one Chromium run; the page needs well under a
// second once the browser is up.
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

// pageHandler serves index.html and the bundle, nothing else.
func pageHandler(dir string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/", "/index.html":
			http.ServeFile(w, r, filepath.Join(dir, "index.html"))
		case "/bundle.js":
			w.Header().Set("Content-Type", "text/javascript")
			http.ServeFile(w, r, filepath.Join(dir, "dist", "bundle.js"))
		default:
			http.NotFound(w, r)
		}
	})
}

// runChromium loads url in headless Chromium and returns the DOM it
// dumps. Chromium runs in its own process group, which is killed when the
// run ends or times out, so no renderer outlives the test.
func runChromium(t *testing.T, chromium, url string) string {
	t.Helper()
	args := []string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage", "--no-default-browser-check", "--mute-audio",
		"--user-data-dir=" + t.TempDir(),
		// Let the page run its async work before the DOM is dumped; the
		// budget is virtual time, spent only while the page is idle.
		"--virtual-time-budget=15000",
		"--dump-dom", url,
	}
	cmd := exec.Command(chromium, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, cmd.Start())
	pid := cmd.Process.Pid
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	kill := func() { syscall.Kill(-pid, syscall.SIGKILL) }
	defer kill()
	select {
	case err := <-done:
		if err != nil {
			t.Logf("chromium exited with %v; stderr:\n%s", err, stderr.String())
		}
	case <-time.After(browserTimeout):
		kill()
		<-done
		t.Fatalf("chromium did not finish within %v; stderr:\n%s", browserTimeout, stderr.String())
	}
	return stdout.String()
}

var resultRE = regexp.MustCompile(`<p id="result">([^<]*)</p>`)

// TestBrowserRequestReply: a page in headless Chromium connects to natsd
// over WebSocket with @nats-io/nats-core's wsconnect, loops a message
// through the server and makes a request that a nats.go client answers
// over TCP. The server only accepts the page's own origin.
func TestBrowserRequestReply(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test: skipped in -short mode")
	}
	chromium := findChromium()
	if chromium == "" {
		t.Skip("browser test: chromium not installed (apt-get install chromium; .ci/run does)")
	}
	dir := buildBundle(t)

	page := httptest.NewServer(pageHandler(dir)) // 127.0.0.1, free port
	defer page.Close()

	s, err := server.New(server.Options{Host: "127.0.0.1", Port: server.RandomPort})
	require.NoError(t, err)
	require.NoError(t, s.Start())
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, s.Shutdown(ctx))
	}()
	require.NoError(t, s.StartWebsocket(server.WebsocketOptions{
		Host: "127.0.0.1", Port: server.RandomPort, NoTLS: true, Compression: true,
		AllowedOrigins: []string{page.URL},
	}))

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

	url := page.URL + "/?ws=" + s.WebsocketURL() + "&subject=browser.echo"
	dom := runChromium(t, chromium, url)
	m := resultRE.FindStringSubmatch(dom)
	require.NotNil(t, m, "no result element in the DOM:\n%s", dom)
	require.Equal(t, "OK loop-ok echo: hello from chromium", html.UnescapeString(m[1]))
	select {
	case q := <-asked:
		require.Equal(t, "hello from chromium", q)
	default:
		t.Fatal("the responder was never asked")
	}
	// Chromium is gone, so is its connection.
	for range 200 {
		if s.NumClients() == 1 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	require.Equal(t, 1, s.NumClients(), "only the responder should remain")
}
