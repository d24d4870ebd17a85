package monitor_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"natsd.dev/monitor"
	"natsd.dev/server"
	"natsd.dev/server/snapshot"
)

// Serve the monitoring endpoints of a server on a loopback port.
func Example() {
	srv, err := server.New(server.Options{Host: "127.0.0.1", Port: server.RandomPort})
	if err != nil {
		panic(err)
	}
	if err := srv.Start(); err != nil {
		panic(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	defer srv.Shutdown(ctx)

	mon, err := monitor.New(srv, monitor.Options{Host: "127.0.0.1", Port: -1})
	if err != nil {
		panic(err)
	}
	if err := mon.Start(); err != nil {
		panic(err)
	}
	defer mon.Shutdown(ctx)

	resp, err := http.Get("http://" + mon.Addr().String() + "/healthz")
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, string(body))
	// Output: 200 {"status":"ok"}
}

// A monitor is an http.Handler: mount it in your own mux or test it
// without a listener.
func ExampleServer_ServeHTTP() {
	srv, _ := server.New(server.Options{Host: "127.0.0.1", Port: server.RandomPort})
	mon, _ := monitor.New(srv, monitor.Options{BasePath: "/nats"})

	rec := httptest.NewRecorder()
	mon.ServeHTTP(rec, httptest.NewRequest("GET", "/nats/connz?sort=bogus", nil))
	fmt.Println(rec.Code, rec.Body.String())
	// Output: 400 invalid sorting option: bogus
}

// fixedSource is a Source that is not a NATS server: it answers every
// kind with a fixed document, as a test of a dashboard might.
type fixedSource struct{}

func (fixedSource) Snapshot(kind string, _ any) (any, error) {
	switch kind {
	case server.KindLeafz:
		return &snapshot.Leafz{ID: "fake", NumLeafs: 1, Leafs: []*snapshot.LeafInfo{{Name: "spoke"}}}, nil
	case server.KindHealthz:
		return &snapshot.HealthStatus{Status: "ok"}, nil
	}
	return nil, &snapshot.MonitorError{Text: "no " + kind + " here"}
}

func (fixedSource) RegisterVarz(string, server.VarzContributor) {}

// The monitor renders whatever its Source answers: *server.Server in
// production, anything else in a test.
func ExampleSource() {
	mon, _ := monitor.New(fixedSource{}, monitor.Options{})
	for _, path := range []string{"/healthz", "/routez"} {
		rec := httptest.NewRecorder()
		mon.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		fmt.Println(rec.Code, rec.Body.String())
	}
	// Output:
	// 200 {"status":"ok"}
	// 400 no ROUTEZ here
}
