package main

// Tests of the container image without a container engine: the Dockerfile
// states what the image promises (ports, user, entrypoint, the config
// file), and the static binary it builds (CGO_ENABLED=0) runs with the
// image's configuration file and the argument styles of the official nats
// image's documentation, forming a cluster.

import (
	"bufio"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"natsd.dev/server/servertest"
)

const (
	dockerfile      = "../../Dockerfile"
	imageConfigFile = "../../docker/nats-server.conf"
	// imageConfigPath is where the image keeps its configuration; its CMD
	// and the official image's documentation name it.
	imageConfigPath = "/etc/nats/nats-server.conf"
)

// TestDockerfile checks the image's promises line by line: a static build,
// an empty base, a non-root user, the three ports, the binary as the
// entrypoint with the repository's configuration file as the default
// arguments.
func TestDockerfile(t *testing.T) {
	f, err := os.Open(dockerfile)
	require.NoError(t, err)
	defer f.Close()
	var lines []string // instructions of the final stage
	var all []string   // every instruction
	var stages int
	var staticBuild bool
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		if strings.HasPrefix(l, "FROM ") {
			stages++
			lines = nil
		}
		if strings.Contains(l, "CGO_ENABLED=0 go build") && strings.Contains(l, "./cmd/nats-server") {
			staticBuild = true
		}
		lines = append(lines, l)
		all = append(all, l)
	}
	require.NoError(t, sc.Err())
	require.GreaterOrEqual(t, stages, 2, "a multi-stage build")
	require.True(t, staticBuild, "the binary is built with CGO_ENABLED=0")
	require.Equal(t, "FROM scratch", lines[0], "the final image holds nothing but what is copied in")
	for _, want := range []string{
		"EXPOSE 4222 6222 8222",
		`ENTRYPOINT ["/nats-server"]`,
		`CMD ["--config", "` + imageConfigPath + `"]`,
		"COPY docker/nats-server.conf " + imageConfigPath,
		"COPY --from=build /out/nats-server /nats-server",
		"ENV NATS_ROUTES=[]",
	} {
		require.Contains(t, lines, want)
	}
	// The build stage fetches modules with only the go.mod files copied:
	// every module of go.work must be among them, or the build fails.
	work, err := os.ReadFile("../../go.work")
	require.NoError(t, err)
	for _, l := range strings.Split(string(work), "\n") {
		if m, ok := strings.CutPrefix(strings.TrimSpace(l), "./"); ok {
			require.True(t, slices.ContainsFunc(all, func(s string) bool {
				return strings.HasPrefix(s, "COPY "+m+"/go.mod ")
			}), "the Dockerfile copies %s/go.mod", m)
		}
	}
	i := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, "USER ") })
	require.GreaterOrEqual(t, i, 0, "the image names a user")
	user := strings.Fields(lines[i])[1]
	require.NotContains(t, []string{"0", "0:0", "root"}, user)
	require.False(t, strings.HasPrefix(user, "0:") || strings.HasPrefix(user, "root:"), user)
}

var (
	staticOnce sync.Once
	staticBin  string
	staticErr  error
)

// staticBinary builds the command as the Dockerfile does (CGO_ENABLED=0),
// once per test run, next to the binary TestMain built (whose directory
// TestMain removes at the end).
func staticBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the static binary; skipped with -short")
	}
	staticOnce.Do(func() {
		dir := filepath.Join(filepath.Dir(binary), "static")
		if staticErr = os.MkdirAll(dir, 0o755); staticErr != nil {
			return
		}
		staticBin = filepath.Join(dir, "nats-server")
		cmd := exec.Command("go", "build", "-trimpath", "-o", staticBin, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			staticErr = err
			t.Logf("%s", out)
		}
	})
	require.NoError(t, staticErr)
	return staticBin
}

// TestStaticBinary: on Linux the CGO_ENABLED=0 build needs no dynamic
// loader and no shared library, so it runs in the empty image.
func TestStaticBinary(t *testing.T) {
	bin := staticBinary(t)
	if runtime.GOOS != "linux" {
		t.Skip("ELF check on Linux only")
	}
	f, err := elf.Open(bin)
	require.NoError(t, err)
	defer f.Close()
	for _, p := range f.Progs {
		require.NotEqual(t, elf.PT_INTERP, p.Type, "the binary asks for a dynamic loader")
	}
	libs, err := f.ImportedLibraries()
	require.NoError(t, err)
	require.Empty(t, libs)
}

// TestImageConfigCluster runs the official page's two-container cluster
// with the static binary and the image's configuration file, then a third
// server that takes its routes from the environment as the image allows:
//
//	docker run -d --name nats-main nats
//	docker run -d --name=nats-2 --link nats-main nats -c /etc/nats/nats-server.conf \
//	    --routes=nats-route://ruser:T0pS3cr3t@nats-main:6222
//	docker run -d --name=nats-3 -e NATS_ROUTES='[nats-route://ruser:T0pS3cr3t@nats-main:6222]' natsd
//
// The image sets NATS_ROUTES=[]; so does the test (the servers inherit it).
// The tests cannot take ports 4222, 6222 and 8222: the first server runs a
// copy of the file whose cluster listens on a random port of 127.0.0.1 (so
// its route authorization applies as written), the others override the
// ports with flags (-m, --cluster; start adds -a and -p). As upstream,
// --cluster without credentials drops the file's route authorization on
// the server it is given to.
func TestImageConfigCluster(t *testing.T) {
	bin := staticBinary(t)
	t.Setenv("NATS_ROUTES", "[]")
	b, err := os.ReadFile(imageConfigFile)
	require.NoError(t, err)
	text := string(b)
	require.Contains(t, text, "\n  port: 6222\n")
	text = strings.Replace(text, "\n  port: 6222\n", "\n  listen: \"127.0.0.1:-1\"\n", 1)
	conf := writeFile(t, filepath.Join(t.TempDir(), "nats-server.conf"), text)

	a := startBinary(t, bin, "--config", conf, "-m", "-1")
	a.waitLog("[INF] Starting http monitor on http://127.0.0.1:")
	a.waitLog("Cluster name is my_cluster")
	seed := strings.Replace(a.clusterURL(), "nats://", "nats-route://ruser:T0pS3cr3t@", 1)
	s2 := startBinary(t, bin, "-c", imageConfigFile, "-m", "-1", "--cluster", "nats://127.0.0.1:-1", "--routes="+seed)
	var rz struct {
		NumRoutes int `json:"num_routes"`
	}
	for _, p := range []*proc{a, s2} {
		// Four: the default pool of route connections and the system
		// account's own route, as upstream.
		servertest.WaitUntil(t, "the routes in /routez", func() bool {
			getJSON(t, p.monitorURL()+"/routez", &rz)
			return rz.NumRoutes == 4
		})
		var vz struct {
			Cluster struct {
				Name string `json:"name"`
			} `json:"cluster"`
		}
		getJSON(t, p.monitorURL()+"/varz", &vz)
		require.Equal(t, "my_cluster", vz.Cluster.Name)
	}
	crossCluster(t, a, s2)

	// Routes from the environment.
	t.Setenv("NATS_ROUTES", "["+seed+"]")
	s3 := startBinary(t, bin, "-c", imageConfigFile, "-m", "-1", "--cluster", "nats://127.0.0.1:-1")
	servertest.WaitUntil(t, "the third server's routes in /routez", func() bool {
		getJSON(t, a.monitorURL()+"/routez", &rz)
		return rz.NumRoutes == 8
	})
	crossCluster(t, a, s3)
	t.Setenv("NATS_ROUTES", "[]")

	// A route without the file's credentials is refused.
	bad := strings.Replace(a.clusterURL(), "nats://", "nats-route://ruser:wrong@", 1)
	c := startBinary(t, bin, "-c", imageConfigFile, "-m", "-1", "--cluster", "nats://127.0.0.1:-1", "--routes="+bad)
	c.waitLog("Authorization Violation")
	getJSON(t, a.monitorURL()+"/routez", &rz)
	require.Equal(t, 8, rz.NumRoutes)
}

// TestImageConfigUpstream: upstream's nats-server takes the image's
// configuration file as natsd does (with NATS_ROUTES set as the image
// sets it, and with routes in it), so the file is no natsd dialect.
func TestImageConfigUpstream(t *testing.T) {
	upstream := os.Getenv("NATSD_UPSTREAM_SERVER")
	if upstream == "" {
		t.Skip("NATSD_UPSTREAM_SERVER is not set")
	}
	for _, routes := range []string{"[]", "[nats-route://ruser:T0pS3cr3t@nats-main:6222, nats-route://ruser:T0pS3cr3t@nats-2:6222]"} {
		t.Setenv("NATS_ROUTES", routes)
		for _, bin := range []string{upstream, binary} {
			out, err := exec.Command(bin, "-c", imageConfigFile, "-t").CombinedOutput()
			require.NoError(t, err, "%s: %s", bin, out)
			require.Contains(t, string(out), "is valid", bin)
		}
	}
}

// TestImageArgumentsCluster runs docs.nats.io's commands, whose arguments
// replace the image's configuration (the CMD):
//
//	docker run --name nats --network nats nats --http_port 8222 --cluster_name NATS --cluster nats://0.0.0.0:6222
//	docker run --name nats-1 --network nats nats --cluster_name NATS --cluster nats://0.0.0.0:6222 \
//	    --routes=nats://ruser:T0pS3cr3t@nats:6222
func TestImageArgumentsCluster(t *testing.T) {
	bin := staticBinary(t)
	a := startBinary(t, bin, "--http_port", "-1", "--cluster_name", "NATS", "--cluster", "nats://127.0.0.1:-1")
	seed := strings.Replace(a.clusterURL(), "nats://", "nats://ruser:T0pS3cr3t@", 1)
	b := startBinary(t, bin, "--cluster_name", "NATS", "--cluster", "nats://127.0.0.1:-1", "--routes="+seed)
	var rz struct {
		NumRoutes int `json:"num_routes"`
	}
	// The pool of three and the system account's route.
	servertest.WaitUntil(t, "the routes in /routez", func() bool {
		getJSON(t, a.monitorURL()+"/routez", &rz)
		return rz.NumRoutes == 4
	})
	crossCluster(t, a, b)
}

// TestImageJetStream runs "docker run nats -js" and its volume form
// "-js -sd /data" with the static binary: a stream takes a message and
// its files are in the store directory.
func TestImageJetStream(t *testing.T) {
	bin := staticBinary(t)
	data := t.TempDir()
	p := startBinary(t, bin, "-js", "-sd", data)
	nc := p.connect()
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	ctx := t.Context()
	_, err = js.CreateStream(ctx, jetstream.StreamConfig{Name: "IMG", Subjects: []string{"img.>"}})
	require.NoError(t, err)
	ack, err := js.Publish(ctx, "img.1", []byte("hello"))
	require.NoError(t, err)
	require.Equal(t, uint64(1), ack.Sequence)
	require.DirExists(t, filepath.Join(data, "jetstream", "$G", "streams", "IMG"))
}

// crossCluster waits until a message published on b reaches a subscriber
// on a.
func crossCluster(t *testing.T, a, b *proc) {
	t.Helper()
	ncA, ncB := a.connect(), b.connect()
	sub, err := ncA.SubscribeSync("img.cross")
	require.NoError(t, err)
	require.NoError(t, ncA.Flush())
	var got *nats.Msg
	for i := 0; i < 100 && got == nil; i++ {
		require.NoError(t, ncB.Publish("img.cross", []byte("x")))
		got, _ = sub.NextMsg(50 * time.Millisecond)
	}
	require.NotNil(t, got, "no message crossed the route")
}
