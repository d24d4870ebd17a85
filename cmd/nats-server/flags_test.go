package main

import (
	"io"
	"strings"
	"testing"

	"natsd.dev/server"
	"natsd.dev/server/config"
)

func TestFlagsOverrideConfig(t *testing.T) {
	base := func() config.Config {
		c := config.Default()
		c.Options.Host, c.Options.Port, c.Options.ServerName = "10.0.0.1", 5000, "conf"
		c.Log.Debug, c.Log.File, c.Log.Logtime = true, "conf.log", true
		return c
	}
	tests := []struct {
		name  string
		args  []string
		check func(c config.Config) bool
	}{
		{"nothing given keeps the file", nil, func(c config.Config) bool {
			return c.Options.Host == "10.0.0.1" && c.Options.Port == 5000 && c.Log.Debug && c.Log.File == "conf.log"
		}},
		{"-a -p -n", []string{"-a", "127.0.0.1", "-p", "-1", "-n", "flag"}, func(c config.Config) bool {
			return c.Options.Host == "127.0.0.1" && c.Options.Port == server.RandomPort && c.Options.ServerName == "flag"
		}},
		{"long spellings", []string{"--net", "::1", "--port", "7", "--server_name", "x"}, func(c config.Config) bool {
			return c.Options.Host == "::1" && c.Options.Port == 7 && c.Options.ServerName == "x"
		}},
		{"--addr --name", []string{"--addr", "h", "--name", "y"}, func(c config.Config) bool {
			return c.Options.Host == "h" && c.Options.ServerName == "y"
		}},
		{"-D=false beats the file", []string{"-D=false"}, func(c config.Config) bool { return !c.Log.Debug }},
		{"-T=false", []string{"-T=false"}, func(c config.Config) bool { return !c.Log.Logtime }},
		{"-DV", []string{"-DV"}, func(c config.Config) bool { return c.Log.Debug && c.Log.Trace && !c.Log.TraceVerbose }},
		{"-VV", []string{"-VV"}, func(c config.Config) bool { return c.Log.Trace && c.Log.TraceVerbose }},
		{"--DVV", []string{"--DVV"}, func(c config.Config) bool { return c.Log.Debug && c.Log.Trace && c.Log.TraceVerbose }},
		{"logging", []string{"-l", "f.log", "--logtime_utc", "-s", "-r", "udp://h:514", "--log_size_limit", "10MB", "--max_traced_msg_len", "64"},
			func(c config.Config) bool {
				return c.Log.File == "f.log" && c.Log.LogtimeUTC && c.Log.Syslog && c.Log.RemoteSyslog == "udp://h:514" &&
					c.Log.SizeLimit == 10<<20 && c.Log.MaxTracedMsgLen == 64
			}},
		{"unauthenticated budget", []string{"--max_unauthenticated_memory", "64MB", "--max_unauthenticated_conn_memory", "-1"}, func(c config.Config) bool {
			return c.Options.MaxUnauthMemory == 64<<20 && c.Options.MaxUnauthConnMemory == -1
		}},
		{"files", []string{"-P", "p.pid", "--ports_file_dir", "/d", "--client_advertise", "a:1"}, func(c config.Config) bool {
			return c.PidFile == "p.pid" && c.PortsFileDir == "/d" && c.Options.ClientAdvertise == "a:1"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := parseFlags(tt.args, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			c := base()
			f.apply(&c)
			if !tt.check(c) {
				t.Errorf("unexpected config %+v", c)
			}
		})
	}
}

func TestUnsupportedOnlyWhenAskedFor(t *testing.T) {
	for args, want := range map[string]bool{
		"-js=false": false, "-m 0": false, "--tls=false": false, "-js": false, "-sd /tmp/js": false, "-m 8222": false, "-ms 8443": false, "--tls": false, "--cluster_name x": false, "--profile 6060": false,
	} {
		f, err := parseFlags(strings.Fields(args), io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if got := f.checkUnsupported() != nil; got != want {
			t.Errorf("%s: unsupported %v, want %v", args, got, want)
		}
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"0": 0, "1024": 1024, "1k": 1000, "1KB": 1024, "2mb": 2 << 20, "1G": 1e9, "1GiB": 1 << 30} {
		got, err := parseSize(in)
		if err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "MB", "1XB", "1.5MB"} {
		if _, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q): no error", in)
		}
	}
}

func TestSignalTarget(t *testing.T) {
	cmd, pid, err := signalTarget("reload=1234")
	if err != nil || cmd != "reload" || pid != 1234 {
		t.Errorf("got %q %d %v", cmd, pid, err)
	}
	path := t.TempDir() + "/x.pid"
	if err := writePidFile(path); err != nil {
		t.Fatal(err)
	}
	if _, pid, err := signalTarget("ldm=" + path); err != nil || pid <= 0 {
		t.Errorf("pid file: %d %v", pid, err)
	}
	if _, _, err := signalTarget("ldm=/nonexistent/x.pid"); err == nil {
		t.Error("missing pid file: no error")
	}
}

func TestRedactArgs(t *testing.T) {
	args := strings.Fields("-a 127.0.0.1 --user u -user=u2 --pass p -pass=q --auth t -auth=t2 -m 8222 --users x -- --pass keep")
	redactArgs(args)
	want := "-a 127.0.0.1 --user [REDACTED] -user=[REDACTED] --pass [REDACTED] -pass=[REDACTED] --auth [REDACTED] -auth=[REDACTED] -m 8222 --users x -- --pass keep"
	if got := strings.Join(args, " "); got != want {
		t.Errorf("redactArgs:\n got %s\nwant %s", got, want)
	}
}
