package leaf_test

import (
	"slices"
	"strings"
	"testing"

	"natsd.dev/cluster/leaf"
	"natsd.dev/server"
	"natsd.dev/server/servertest"
)

// A hub with gateways (Options.GatewayReplies) tells a leaf node
// "LS+ _GR_.>" when it connects, as upstream does, and never the
// gateways' own "_GR_.<cluster hash>.>" interest (one per remote
// cluster); the rest of the gateways' interest still goes to the leaf
// node. Without the option the gateways' interest goes as it is.
func TestLeafGatewayReplies(t *testing.T) {
	for _, on := range []bool{true, false} {
		name := "gateways"
		if !on {
			name = "no option"
		}
		t.Run(name, func(t *testing.T) {
			h, hub, _ := startHub(t, server.Options{}, leaf.Options{GatewayReplies: on})
			remote := servertest.Start(t, server.Options{})
			servertest.ConnectFake(t, server.ConnGateway, h, remote)
			watch := servertest.WatchInterest(t, h)
			rc := servertest.Connect(t, remote)
			// A remote cluster's reply interest, as a gateway holds it.
			if _, err := rc.SubscribeSync("_GR_.abcdef.>"); err != nil {
				t.Fatal(err)
			}
			if _, err := rc.SubscribeSync("gw.before"); err != nil {
				t.Fatal(err)
			}
			if err := rc.Flush(); err != nil {
				t.Fatal(err)
			}
			watch.WaitFor(t, "gw.before", server.ConnGateway, true)

			raw := servertest.DialRaw(t, hub.Addr().String())
			raw.ReadUntil("INFO ")
			raw.Send(`CONNECT {"name":"peer","remote_account":"$G","compress_mode":"not supported"}` + "\r\n")
			got := lsubs(raw.Flush())
			// Later gateway interest: the plain subject is announced
			// after the reply subject, or the latter never is.
			if _, err := rc.SubscribeSync("_GR_.ghijkl.>"); err != nil {
				t.Fatal(err)
			}
			if _, err := rc.SubscribeSync("gw.after"); err != nil {
				t.Fatal(err)
			}
			if err := rc.Flush(); err != nil {
				t.Fatal(err)
			}
			for !slices.Contains(got, "gw.after") {
				got = append(got, lsubs([]string{raw.ReadLine()})...)
			}
			want := []string{"_GR_.>", "gw.after", "gw.before"}
			if !on {
				want = []string{"_GR_.abcdef.>", "_GR_.ghijkl.>", "gw.after", "gw.before"}
			}
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Fatalf("LS+ %q, want %q", got, want)
			}
		})
	}
}

// lsubs returns the subjects of the LS+ lines, less the loop detection
// subject.
func lsubs(lines []string) []string {
	var out []string
	for _, l := range lines {
		if s, ok := strings.CutPrefix(l, "LS+ "); ok && !strings.HasPrefix(s, "$LDS.") {
			out = append(out, s)
		}
	}
	return out
}
