package route_test

import (
	"strings"
	"testing"
	"time"

	"natsd.dev/cluster/route"
	"natsd.dev/server/servertest"
)

// A route advertises "lnocu" in its INFO, as upstream 2.10+. A peer that
// advertises it too names the origin cluster in LS-, and the leaf
// interest it announces for two clusters in the same subject and queue
// is kept apart: LS- of one origin leaves the other's. A peer that does
// not advertise it sends LS- without the origin, and its LS+ for the
// same subject and queue from any origin is one interest (a weight
// update), as upstream keeps it.
func TestRouteLeafOriginUnsub(t *testing.T) {
	for _, lnocu := range []bool{true, false} {
		name := "lnocu"
		if !lnocu {
			name = "no lnocu"
		}
		t.Run(name, func(t *testing.T) {
			a := startNode(t, "A", route.Options{Name: "test"})
			raw := servertest.DialRaw(t, a.c.Addr().String())
			if info := raw.ReadLine(); !strings.HasPrefix(info, "INFO ") || !strings.Contains(info, `"lnoc":true`) || !strings.Contains(info, `"lnocu":true`) {
				t.Fatalf("route INFO %q", info)
			}
			flag := ""
			if lnocu {
				flag = `,"lnocu":true`
			}
			raw.Send(`CONNECT {"name":"NFAKE","cluster":"test","headers":true}` + "\r\n" +
				`INFO {"server_id":"NFAKE","server_name":"fake","cluster":"test","port":1,"headers":true,"lnoc":true` + flag + "}\r\n")
			waitRoutes(t, 1, a)
			acc := a.s.GlobalAccount()
			subs := func(want int) {
				t.Helper()
				servertest.WaitUntilWithin(t, 5*time.Second, "the route's interest", func() bool { return acc.NumSubscriptions() == want })
			}
			raw.Send("LS+ X $G lnocu.foo g 1\r\nLS+ Y $G lnocu.foo g 2\r\nLS+ X $G lnocu.bar\r\nLS+ Y $G lnocu.bar\r\n")
			if !lnocu {
				subs(2)
				raw.Send("LS- $G lnocu.foo g\r\nLS- $G lnocu.bar\r\n")
				subs(0)
				return
			}
			subs(4)
			raw.Send("LS- X $G lnocu.foo g\r\nLS- Y $G lnocu.bar\r\n")
			subs(2)
			// What is left is Y's queue interest and X's plain one.
			raw.Send("LS- X $G lnocu.foo g\r\nLS- Y $G lnocu.bar\r\n")
			raw.Send("PING\r\n")
			raw.ReadUntil("PONG")
			subs(2)
			raw.Send("LS- Y $G lnocu.foo g\r\nLS- X $G lnocu.bar\r\n")
			subs(0)
		})
	}
}
