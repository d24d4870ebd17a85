package leaf

import (
	"net/url"
	"slices"
	"testing"
)

// A remote learns the hub cluster's websocket ports when it reaches the
// hub over WebSocket, its leaf node ports otherwise, with a scheme that
// keeps the remote's transport.
func TestRemoteLearnsHubURLs(t *testing.T) {
	info := &leafInfo{LeafNodeURLs: []string{"10.0.0.1:7422"}, WSConnectURLs: []string{"10.0.0.1:443"}}
	for _, tc := range []struct {
		configured string
		want       []string
	}{
		{"nats-leaf://h:7422", []string{"nats-leaf://h:7422", "nats-leaf://10.0.0.1:7422"}},
		{"ws://h:80", []string{"ws://h:80", "ws://10.0.0.1:443"}},
		{"wss://h:443", []string{"wss://h:443", "wss://10.0.0.1:443"}},
	} {
		u, _ := url.Parse(tc.configured)
		r := &remote{r: &Remote{URLs: []*url.URL{u}}, urls: []*url.URL{u}}
		r.addURLs(r.hubURLs(info))
		var got []string
		for _, x := range r.urls {
			got = append(got, x.String())
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: learned %v, want %v", tc.configured, got, tc.want)
		}
	}
}

func TestWSRequestURL(t *testing.T) {
	for in, want := range map[string]string{
		"ws://h:80":             "ws://h:80/leafnode",
		"wss://u:p@h:443/proxy": "wss://h:443/proxy/leafnode",
		"WS://h":                "ws://h/leafnode",
	} {
		u, _ := url.Parse(in)
		if got := wsRequestURL(u).String(); got != want {
			t.Errorf("%s: %s, want %s", in, got, want)
		}
	}
	for in, want := range map[string]string{"ws://h": "h:80", "wss://h": "h:443", "nats-leaf://h": "h:7422", "ws://h:1": "h:1"} {
		u, _ := url.Parse(in)
		if got := dialAddr(u); got != want {
			t.Errorf("dialAddr(%s) = %s, want %s", in, got, want)
		}
	}
}
