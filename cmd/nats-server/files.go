package main

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"natsd.dev/cluster"
	"natsd.dev/cmd/internal/wsserver"
	"natsd.dev/monitor"
	"natsd.dev/server"
	"natsd.dev/server/logger"
)

const fatalLevel = logger.LevelFatal

// writePidFile writes the process id, as nats-server does for -P.
func writePidFile(path string) error {
	return os.WriteFile(path, []byte(strconv.Itoa(os.Getpid())), 0o660)
}

// ports is the JSON document of the ports file, with nats-server's field
// names; natsd fills the client, monitoring, profiling, cluster and
// WebSocket lists so far.
type ports struct {
	Nats       []string `json:"nats,omitempty"`
	Monitoring []string `json:"monitoring,omitempty"`
	Cluster    []string `json:"cluster,omitempty"`
	Profile    []string `json:"profile,omitempty"`
	WebSocket  []string `json:"websocket,omitempty"`
}

// portsFileName is "<executable_name>_<pid>.ports".
func portsFileName() string {
	exe := strings.TrimSuffix(filepath.Base(os.Args[0]), ".exe")
	return fmt.Sprintf("%s_%d.ports", exe, os.Getpid())
}

// writePortsFile writes the ports file for the listeners of s into dir and
// returns its path.
func writePortsFile(dir string, s *server.Server, mon *monitor.Server, prof *monitor.Profiler, cl *cluster.Cluster, ws *wsserver.Listener) (string, error) {
	doc := ports{Nats: listenURLs("nats", s.Addr())}
	if prof != nil {
		doc.Profile = listenURLs("http", prof.Addr())
	}
	if mon != nil {
		https := mon.HTTPSAddr()
		if a := mon.Addr(); a != nil && (https == nil || a.String() != https.String()) {
			doc.Monitoring = listenURLs("http", a)
		}
		if https != nil {
			doc.Monitoring = append(doc.Monitoring, listenURLs("https", https)...)
		}
	}
	if ws != nil {
		addr := ws.Addr()
		scheme := "ws"
		if ws.TLS() {
			scheme = "wss"
		}
		doc.WebSocket = listenURLs(scheme, addr)
	}
	if cl != nil {
		doc.Cluster = listenURLs("nats", cl.Addr())
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, portsFileName())
	if err := os.WriteFile(path, b, 0o666); err != nil {
		return "", err
	}
	return path, nil
}

// listenURLs lists the URLs that reach a listener; a listener on the
// unspecified address is reachable on every interface address.
func listenURLs(scheme string, addr net.Addr) []string {
	ta, ok := addr.(*net.TCPAddr)
	if !ok {
		return nil
	}
	port := strconv.Itoa(ta.Port)
	var hosts []string
	if ta.IP.IsUnspecified() {
		ifaces, _ := net.Interfaces()
		for _, ifc := range ifaces {
			addrs, _ := ifc.Addrs()
			for _, a := range addrs {
				switch v := a.(type) {
				case *net.IPNet:
					hosts = append(hosts, v.IP.String())
				case *net.IPAddr:
					hosts = append(hosts, v.IP.String())
				}
			}
		}
	} else {
		hosts = append(hosts, ta.IP.String())
	}
	urls := make([]string, len(hosts))
	for i, h := range hosts {
		urls[i] = scheme + "://" + net.JoinHostPort(h, port)
	}
	return urls
}
