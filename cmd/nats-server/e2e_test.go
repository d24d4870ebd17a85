package main

// End-to-end tests of the built binary: flags, configuration files,
// logging, signals and the files it writes, checked from outside with the
// nats.go client. Every server binds 127.0.0.1 on a random port (-p -1)
// and is killed by pid when its test ends.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"natsd.dev/server"
	"natsd.dev/server/servertest"
)

// binary is the nats-server built once for the whole test run.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "natsd-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "nats-server")
	out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "building nats-server: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// runOnce runs the binary to completion (at most 10s) and returns its exit
// code, stdout and stderr.
func runOnce(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Start())
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return exit.ExitCode(), stdout.String(), stderr.String()
		}
		require.NoError(t, err)
		return 0, stdout.String(), stderr.String()
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("nats-server %v did not exit", args)
		return -1, "", ""
	}
}

// proc is a running nats-server.
type proc struct {
	t     *testing.T
	cmd   *exec.Cmd
	dir   string
	log   *servertest.Logs
	port  int
	done  chan struct{}
	err   error // Wait's result, once done is closed
	ports string
}

// start runs the binary on 127.0.0.1 with a random port plus args and
// waits for its ports file.
func start(t *testing.T, args ...string) *proc {
	t.Helper()
	return startBinary(t, binary, args...)
}

// startBinary is start with another build of the command (bin).
func startBinary(t *testing.T, bin string, args ...string) *proc {
	t.Helper()
	dir := t.TempDir()
	all := append([]string{"-a", "127.0.0.1", "-p", "-1", "--ports_file_dir", dir}, args...)
	p := &proc{t: t, dir: dir, log: &servertest.Logs{}, done: make(chan struct{})}
	p.cmd = exec.Command(bin, all...)
	p.cmd.Stderr = p.log
	require.NoError(t, p.cmd.Start())
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("server log:\n%s", p.log.String())
		}
	})
	p.ports = filepath.Join(dir, fmt.Sprintf("nats-server_%d.ports", p.cmd.Process.Pid))
	// The binary catches signals before it writes the ports file
	// (trapSignals), so a test may signal it as soon as the file exists.
	servertest.WaitUntil(t, "the ports file", func() bool {
		select {
		case <-p.done:
			t.Fatalf("nats-server exited early: %v\n%s", p.err, p.log.String())
		default:
		}
		b, err := os.ReadFile(p.ports)
		if err != nil {
			return false
		}
		var doc struct{ Nats []string }
		if json.Unmarshal(b, &doc) != nil || len(doc.Nats) != 1 {
			return false
		}
		_, port, ok := strings.Cut(strings.TrimPrefix(doc.Nats[0], "nats://127.0.0.1"), ":")
		p.port, _ = strconv.Atoi(port)
		return ok && p.port > 0
	})
	return p
}

// portsFileWait polls cond every 20ms for at most 5s (see start).
func (p *proc) url() string { return "nats://127.0.0.1:" + strconv.Itoa(p.port) }

func (p *proc) connect(opts ...nats.Option) *nats.Conn {
	p.t.Helper()
	return servertest.ConnectURL(p.t, p.url(), opts...)
}

func (p *proc) signal(sig syscall.Signal) {
	p.t.Helper()
	require.NoError(p.t, p.cmd.Process.Signal(sig))
}

func (p *proc) waitLog(substr string) {
	p.t.Helper()
	p.log.WaitFor(p.t, substr)
}

// exitCode waits (at most 10s) for the process to exit.
func (p *proc) exitCode() int {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.t.Fatal("nats-server did not exit")
	}
	var exit *exec.ExitError
	if errors.As(p.err, &exit) {
		return exit.ExitCode()
	}
	require.NoError(p.t, p.err)
	return 0
}

func writeFile(t *testing.T, path, text string) string {
	t.Helper()
	require.NoError(t, os.WriteFile(path, []byte(text), 0o600))
	return path
}

func TestVersionAndHelp(t *testing.T) {
	for _, arg := range []string{"-v", "--version"} {
		code, out, _ := runOnce(t, arg)
		require.Equal(t, 0, code)
		require.Equal(t, "nats-server: v"+server.Version+"\n", out)
	}
	code, out, _ := runOnce(t, "-h")
	require.Equal(t, 0, code)
	for _, want := range []string{
		"    -a, --addr, --net <host>         ", "    -p, --port <port>                ", "    -n, --name\n",
		"        --server_name <server_name>  ", "    -P, --pid <file>                 ", "    -m, --http_port <port>           ",
		"    -ms,--https_port <port>          ", "    -c, --config <file>              ", "    -t                               ",
		"    -sl,--signal <signal>[=<pid>]    ", "        --client_advertise <string>  ", "        --ports_file_dir <dir>       ",
		"    -l, --log <file>                 ", "    -T, --logtime                    ", "        --logtime_utc                ",
		"    -s, --syslog                     ", "    -r, --remote_syslog <addr>       ", "    -D, --debug                      ",
		"    -V, --trace                      ", "    -VV                              ", "    -DV                              ",
		"    -DVV                             ", "        --log_size_limit <limit>     ", "        --max_traced_msg_len <len>   ",
		"    -js, --jetstream                 ", "    -sd, --store_dir <dir>           ", "        --user <user>                ",
		"        --pass <password>            ", "        --auth <token>               ", "        --tls                        ",
		"        --tlscert <file>             ", "        --tlskey <file>              ", "        --tlsverify                  ",
		"        --tlscacert <file>           ", "        --routes <rurl-1, rurl-2>    ", "        --cluster <cluster-url>      ",
		"        --cluster_name <string>      ", "        --no_advertise <bool>        ", "        --cluster_advertise <string> ",
		"        --connect_retries <number>   ", "        --cluster_listen <url>       ", "        --profile <port>             ",
		"    -h, --help                       ", "    -v, --version                    ", "        --help_tls                   ",
	} {
		require.Contains(t, out, want)
	}
	code, _, _ = runOnce(t, "--no-such-flag")
	require.Equal(t, 2, code)
	code, _, errOut := runOnce(t, "stray")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, `unexpected argument "stray"`)
}

func TestCheckConfig(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, filepath.Join(dir, "good.conf"), "port: 4999\nmax_payload: 64KB\n")
	code, _, errOut := runOnce(t, "-c", good, "-t")
	require.Equal(t, 0, code, errOut)
	require.Regexp(t, `^nats-server: configuration file .*good\.conf is valid \(sha256:[0-9a-f]{64}\)\n$`, errOut)

	bad := writeFile(t, filepath.Join(dir, "bad.conf"), "port: \"x\"\nbogus_key: 1\njetstream { bogus: 1 }\nping_interval: \"2 minutes\"\n")
	code, _, errOut = runOnce(t, "-c", bad, "-t")
	require.Equal(t, 1, code)
	for _, want := range []string{
		bad + `:1:7: port: expected an integer, got string "x"`,
		bad + `:2:1: unknown field "bogus_key"`,
		bad + `:3:13: unknown field "bogus"`,
		bad + `:4:16: error parsing ping_interval`,
	} {
		require.Contains(t, errOut, want)
	}
	// The server refuses to start on the same file.
	code, _, _ = runOnce(t, "-c", bad, "-a", "127.0.0.1", "-p", "-1")
	require.Equal(t, 1, code)

	syntax := writeFile(t, filepath.Join(dir, "syntax.conf"), "port: 4222\nmax_payload: {\n")
	code, _, errOut = runOnce(t, "-c", syntax, "-t")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, syntax+":")

	code, _, errOut = runOnce(t, "-t")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "must specify [-c, --config]")
}

func TestStartBannerPortsFileAndPubSub(t *testing.T) {
	p := start(t)
	for _, line := range []string{
		"[INF] Starting nats-server", "[INF]   Version:  " + server.Version, "[INF]   Name:     ", "[INF]   ID:       ",
		"[INF] Listening for client connections on 127.0.0.1:" + strconv.Itoa(p.port), "[INF] Server is ready",
	} {
		p.waitLog(line)
	}
	pid := strconv.Itoa(p.cmd.Process.Pid)
	require.Regexp(t, `(?m)^\[`+pid+`\] \d{4}/\d\d/\d\d \d\d:\d\d:\d\d\.\d{6} \[INF\] Server is ready$`, p.log.String())
	b, err := os.ReadFile(p.ports)
	require.NoError(t, err)
	require.JSONEq(t, fmt.Sprintf(`{"nats":["nats://127.0.0.1:%d"]}`, p.port), string(b))

	nc := p.connect()
	sub, err := nc.SubscribeSync("e2e.>")
	require.NoError(t, err)
	require.NoError(t, nc.Publish("e2e.hello", []byte("world")))
	msg, err := sub.NextMsg(2 * time.Second)
	require.NoError(t, err)
	require.Equal(t, "world", string(msg.Data))
}

func TestConfigValuesAndFlagOverride(t *testing.T) {
	dir := t.TempDir()
	conf := writeFile(t, filepath.Join(dir, "n.conf"), `
server_name: from_config
max_payload: 2KB
connect_error_reports: 5
`)
	p := start(t, "-c", conf, "-T=false")
	nc := p.connect()
	require.Equal(t, int64(2048), nc.MaxPayload())
	require.Equal(t, "from_config", nc.ConnectedServerName())
	p.waitLog(conf + ":4:1: connect_error_reports is not supported yet and is ignored")
	p.waitLog("[INF] Using configuration file: " + conf)
	// -T=false drops the time from every line.
	require.Regexp(t, `(?m)^\[\d+\] \[INF\] Server is ready$`, p.log.String())

	p2 := start(t, "-c", conf, "-n", "from_flag")
	require.Equal(t, "from_flag", p2.connect().ConnectedServerName())
}

func TestSighupReload(t *testing.T) {
	dir := t.TempDir()
	conf := writeFile(t, filepath.Join(dir, "r.conf"), "max_payload: 1KB\n")
	p := start(t, "-c", conf)
	require.Equal(t, int64(1024), p.connect().MaxPayload())

	writeFile(t, conf, "max_payload: 4KB\n")
	p.signal(syscall.SIGHUP)
	p.waitLog("Reloaded server configuration")
	require.Equal(t, int64(4096), p.connect().MaxPayload())

	// A broken file is refused and the running configuration kept.
	writeFile(t, conf, "max_payload: \"lots\"\n")
	p.signal(syscall.SIGHUP)
	p.waitLog("[ERR] Failed to reload server configuration: " + conf + ":1:14: max_payload: expected an integer")
	require.Equal(t, int64(4096), p.connect().MaxPayload())

	// So is a change that needs a restart.
	writeFile(t, conf, "max_payload: 4KB\nno_header_support: true\n")
	p.signal(syscall.SIGHUP)
	p.waitLog("config reload not supported for no_header_support")
}

func TestSignalFlagWithPidAndPidFile(t *testing.T) {
	dir := t.TempDir()
	conf := writeFile(t, filepath.Join(dir, "s.conf"), "max_payload: 1KB\n")
	pidFile := filepath.Join(dir, "nats.pid")
	p := start(t, "-c", conf, "-P", pidFile)
	b, err := os.ReadFile(pidFile)
	require.NoError(t, err)
	pid := strconv.Itoa(p.cmd.Process.Pid)
	require.Equal(t, pid, string(b))

	writeFile(t, conf, "max_payload: 3KB\n")
	code, _, errOut := runOnce(t, "--signal", "reload="+pid)
	require.Equal(t, 0, code, errOut)
	p.waitLog(`Trapped "hangup" signal`)
	p.waitLog("Reloaded server configuration")
	require.Equal(t, int64(3072), p.connect().MaxPayload())

	code, _, errOut = runOnce(t, "-sl", "bogus="+pid)
	require.Equal(t, 1, code)
	require.Contains(t, errOut, `unknown signal "bogus"`)

	code, _, errOut = runOnce(t, "-sl", "stop="+pidFile)
	require.Equal(t, 0, code, errOut)
	require.NotEqual(t, 0, p.exitCode(), "stop sends SIGKILL")
}

func TestSigtermClosesClientsAndFiles(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "nats.pid")
	p := start(t, "-P", pidFile)
	closed := make(chan struct{})
	p.connect(nats.ClosedHandler(func(*nats.Conn) { close(closed) }))
	p.signal(syscall.SIGTERM)
	require.Equal(t, 0, p.exitCode())
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("client did not see the connection close")
	}
	require.NoFileExists(t, pidFile)
	require.NoFileExists(t, p.ports)
	require.Contains(t, p.log.String(), "Server Exiting..")
}

func TestSigintAndLameDuck(t *testing.T) {
	p := start(t)
	p.signal(syscall.SIGINT)
	require.Equal(t, 0, p.exitCode())

	p = start(t)
	code, _, errOut := runOnce(t, "--signal", "ldm="+strconv.Itoa(p.cmd.Process.Pid))
	require.Equal(t, 0, code, errOut)
	require.Equal(t, 0, p.exitCode())
	require.Contains(t, p.log.String(), "Entering lame duck mode")
}

func TestDebugAndTraceFlags(t *testing.T) {
	p := start(t, "-DV")
	nc := p.connect()
	require.NoError(t, nc.Flush())
	p.waitLog("[TRC] ")
	p.waitLog("[DBG] ")

	// -V alone traces without debug lines.
	p = start(t, "-V")
	nc = p.connect()
	require.NoError(t, nc.Flush())
	p.waitLog("[TRC] ")
	nc.Close()
	// Once the process has exited, its log is complete.
	p.signal(syscall.SIGTERM)
	p.exitCode()
	require.NotContains(t, p.log.String(), "[DBG] ")
}

func TestRemoteSyslog(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	defer pc.Close()
	start(t, "-r", "udp://"+pc.LocalAddr().String())
	require.NoError(t, pc.SetReadDeadline(time.Now().Add(5*time.Second)))
	buf := make([]byte, 2048)
	for range 50 {
		n, _, err := pc.ReadFrom(buf)
		require.NoError(t, err)
		if bytes.HasSuffix(bytes.TrimSpace(buf[:n]), []byte("Server is ready")) {
			return
		}
	}
	t.Fatal("no \"Server is ready\" datagram")
}

func TestLogFileRotation(t *testing.T) {
	dir := t.TempDir()
	logFile := filepath.Join(dir, "nats.log")
	conf := writeFile(t, filepath.Join(dir, "l.conf"), "logfile_max_num: 2\n")
	p := start(t, "-c", conf, "-l", logFile, "--log_size_limit", "150", "-DV")
	for range 5 {
		p.connect().Close()
	}
	servertest.WaitUntil(t, "a rotation", func() bool {
		b, _ := os.ReadFile(logFile)
		return bytes.Contains(b, []byte(`[INF] Rotated log, backup saved as "`+logFile+"."))
	})
	servertest.WaitUntil(t, "old backups purged", func() bool {
		backups, _ := filepath.Glob(logFile + ".*")
		return len(backups) == 1 // logfile_max_num counts the current file
	})
}
