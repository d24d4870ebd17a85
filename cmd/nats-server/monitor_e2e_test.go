package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"natsd.dev/server/servertest"
)

// monitorURL reads the monitoring URL from p's ports file.
func (p *proc) monitorURL() string {
	p.t.Helper()
	b, err := os.ReadFile(p.ports)
	require.NoError(p.t, err)
	var doc struct{ Monitoring []string }
	require.NoError(p.t, json.Unmarshal(b, &doc))
	require.Len(p.t, doc.Monitoring, 1, string(b))
	return doc.Monitoring[0]
}

func getJSON(t *testing.T, url string, into any) {
	t.Helper()
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, resp.Header.Get("Content-Type"), "application/json")
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, into), string(b))
}

// The binary serves monitoring with -m, from the config file's http_port
// and max_closed_clients, and lists it in the ports file.
func TestMonitoringFlagAndConfig(t *testing.T) {
	p := start(t, "-m", "-1")
	p.waitLog("[INF] Starting http monitor on http://127.0.0.1:")
	base := p.monitorURL()
	nc := p.connect(nats.Name("watched"))
	_, err := nc.SubscribeSync("m.>")
	require.NoError(t, err)
	require.NoError(t, nc.Flush())

	var varz struct {
		ServerID    string `json:"server_id"`
		Connections int    `json:"connections"`
		HTTPPort    int    `json:"http_port"`
	}
	getJSON(t, base+"/varz", &varz)
	require.NotEmpty(t, varz.ServerID)
	require.Equal(t, 1, varz.Connections)
	require.NotZero(t, varz.HTTPPort)

	var connz struct {
		Conns []struct {
			Name string   `json:"name"`
			Subs []string `json:"subscriptions_list"`
		} `json:"connections"`
	}
	getJSON(t, base+"/connz?subs=1", &connz)
	require.Len(t, connz.Conns, 1)
	require.Equal(t, "watched", connz.Conns[0].Name)
	require.Equal(t, []string{"m.>"}, connz.Conns[0].Subs)

	var health struct{ Status string }
	getJSON(t, base+"/healthz", &health)
	require.Equal(t, "ok", health.Status)

	conf := writeFile(t, p.dir+"/mon.conf", "http_port: -1\nhttp_base_path: /mon\nmax_closed_clients: 1\n")
	q := start(t, "-c", conf)
	qbase := q.monitorURL() + "/mon"
	for range 3 {
		q.connect().Close()
	}
	servertest.WaitUntil(t, "closed connections recorded", func() bool {
		var closed struct {
			Total int `json:"total"`
		}
		getJSON(t, qbase+"/connz?state=closed", &closed)
		return closed.Total == 1 // max_closed_clients keeps only the last
	})
}

// httpGet fetches url and returns the status and body.
func httpGet(t *testing.T, url string) (int, []byte) {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, b
}

// getVarz fetches /varz from the monitoring port as a map.
func getVarz(t *testing.T, httpPort int) map[string]any {
	t.Helper()
	code, b := httpGet(t, "http://127.0.0.1:"+strconv.Itoa(httpPort)+"/varz")
	require.Equal(t, http.StatusOK, code, string(b))
	var v map[string]any
	require.NoError(t, json.Unmarshal(b, &v))
	return v
}
