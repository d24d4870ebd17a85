package leaf

import (
	"testing"
	"time"

	"natsd.dev/server"
	"natsd.dev/server/servertest"
)

// A leaf node older than min_version gets an INFO, upstream's error, and
// is closed after the hold.
func TestMinVersionRefused(t *testing.T) {
	old := minVersionHold
	minVersionHold = 100 * time.Millisecond
	t.Cleanup(func() { minVersionHold = old })
	s, logs := servertest.StartWithLogs(t, server.Options{})
	hub, err := Start(s, &Options{Host: "127.0.0.1", Port: RandomPort, MinVersion: "2.10.0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(hub.Close)
	rc := servertest.DialRaw(t, hub.Addr().String())
	rc.Send(`CONNECT {"version":"2.9.0","name":"old"}` + "\r\n")
	rc.ReadUntil(`"connect_info":true`)
	rc.ReadUntil(`-ERR 'connection rejected since minimum version required is "2.10.0"'`)
	rc.ExpectClosed()
	logs.WaitFor(t, "Leafnode connection closed: Minimum Version Required")
	if !versionAtLeast("2.10.1", "2.10.0") || versionAtLeast("2.9.9", "2.10.0") || !versionAtLeast("2.11.0-beta.1", "2.11.0") {
		t.Error("versionAtLeast compares wrongly")
	}
}
