package server

import (
	"context"
	"net"
	"reflect"
	"testing"
	"time"

	"natsd.dev/server/snapshot"
)

// TestWebsocketVarz checks the /varz section that the snapshot code gets
// from websocketVarz: the bound port, not -1, and the settings in force.
func TestWebsocketVarz(t *testing.T) {
	s, err := New(Options{Host: "127.0.0.1", Port: RandomPort})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	}()
	if v := s.websocketVarz(); v.Port != 0 || v.Host != "" {
		t.Fatalf("varz before the listener: %+v", v)
	}
	err = s.StartWebsocket(WebsocketOptions{Host: "127.0.0.1", Port: RandomPort, NoTLS: true, Compression: true,
		SameOrigin: true, AllowedOrigins: []string{"https://a.example.com"}, Advertise: "ws.example.com:443"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.StartWebsocket(WebsocketOptions{Host: "127.0.0.1", Port: RandomPort, NoTLS: true}); err == nil {
		t.Fatal("a second listener started")
	}
	v := s.websocketVarz()
	want := snapshot.WebsocketOptsVarz{Host: "127.0.0.1", Port: s.WebsocketAddr().(*net.TCPAddr).Port, Advertise: "ws.example.com:443",
		NoTLS: true, SameOrigin: true, AllowedOrigins: []string{"https://a.example.com"}, Compression: true}
	if !reflect.DeepEqual(v, want) {
		t.Fatalf("varz %+v, want %+v", v, want)
	}
}
