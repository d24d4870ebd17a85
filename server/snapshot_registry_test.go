package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"natsd.dev/auth"
	"natsd.dev/server"
	"natsd.dev/server/servertest"
	"natsd.dev/server/snapshot"
	_ "natsd.dev/server/sys" // answers $SYS requests
)

// sysOptions have a system account SYS with user sys/psys, and user a/pa
// in the global account.
func sysOptions() server.Options {
	return server.Options{
		SystemAccount: "SYS",
		Authorization: &auth.Config{Users: []auth.User{
			{Name: "sys", Password: "psys", Account: "SYS"},
			{Name: "a", Password: "pa"},
		}},
	}
}

// sysRequest asks subject with a real client and decodes the answer.
func sysRequest(t *testing.T, nc *nats.Conn, subject, body string) map[string]any {
	t.Helper()
	m, err := nc.Request(subject, []byte(body), 3*time.Second)
	require.NoError(t, err, subject)
	var out map[string]any
	require.NoError(t, json.Unmarshal(m.Data, &out), string(m.Data))
	return out
}

// sysData asks subject with a real client and returns the envelope's data.
func sysData(t *testing.T, nc *nats.Conn, subject, body string) map[string]any {
	t.Helper()
	r := sysRequest(t, nc, subject, body)
	require.NotContains(t, r, "error", subject)
	d, ok := r["data"].(map[string]any)
	require.True(t, ok, "%s: %v", subject, r)
	return d
}

// leafProvider answers LEAFZ with one leaf node and records its options.
type leafProvider struct {
	mu  sync.Mutex
	got []snapshot.LeafzOptions
}

func (p *leafProvider) leafz(o *snapshot.LeafzOptions) (*snapshot.Leafz, error) {
	p.mu.Lock()
	p.got = append(p.got, *o)
	p.mu.Unlock()
	if o.Account == "nope" {
		return nil, &snapshot.MonitorError{Text: "account nope has no leaf nodes"}
	}
	return &snapshot.Leafz{ID: "me", NumLeafs: 1, Leafs: []*snapshot.LeafInfo{{Name: "spoke", Account: o.Account, IP: "10.0.0.1", Port: 7422}}}, nil
}

func (p *leafProvider) last() snapshot.LeafzOptions {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.got[len(p.got)-1]
}

// TestRegistryOverSys: a registered provider answers
// $SYS.REQ.SERVER.PING.<KIND> and $SYS.REQ.SERVER.<id>.<KIND>, with the
// request's options; unregistering brings the default back.
func TestRegistryOverSys(t *testing.T) {
	s := servertest.Start(t, sysOptions())
	sys := servertest.Connect(t, s, nats.UserInfo("sys", "psys"))

	// Unregistered: upstream's empty shapes, and JetStream disabled.
	d := sysData(t, sys, "$SYS.REQ.SERVER.PING.LEAFZ", "")
	require.Equal(t, []any{}, d["leafs"])
	require.EqualValues(t, 0, d["leafnodes"])
	d = sysData(t, sys, "$SYS.REQ.SERVER.PING.GATEWAYZ", "")
	require.Equal(t, map[string]any{}, d["outbound_gateways"])
	d = sysData(t, sys, "$SYS.REQ.SERVER."+s.ID()+".JSZ", "")
	require.Equal(t, true, d["disabled"])
	require.Equal(t, s.ID(), d["server_id"])

	p := &leafProvider{}
	s.RegisterProvider("leafz", server.ProviderFunc(p.leafz)) // kinds ignore case
	for _, subj := range []string{"$SYS.REQ.SERVER.PING.LEAFZ", "$SYS.REQ.SERVER." + s.ID() + ".LEAFZ"} {
		d := sysData(t, sys, subj, `{"subscriptions":true,"account":"A"}`)
		require.EqualValues(t, 1, d["leafnodes"], subj)
		leaf := d["leafs"].([]any)[0].(map[string]any)
		require.Equal(t, "spoke", leaf["name"], subj)
		require.Equal(t, "A", leaf["account"], subj)
		require.Equal(t, snapshot.LeafzOptions{Subscriptions: true, Account: "A"}, p.last(), subj)
	}
	// The account-scoped request reaches the same provider.
	d = sysData(t, sys, "$SYS.REQ.ACCOUNT.B.LEAFZ", "")
	require.Equal(t, "B", d["leafs"].([]any)[0].(map[string]any)["account"])
	// A bad request is the provider's MonitorError, as a 400.
	r := sysRequest(t, sys, "$SYS.REQ.SERVER.PING.LEAFZ", `{"account":"nope"}`)
	require.Equal(t, map[string]any{"code": float64(400), "description": "account nope has no leaf nodes"}, r["error"])

	s.RegisterProvider(server.KindLeafz, nil)
	d = sysData(t, sys, "$SYS.REQ.SERVER.PING.LEAFZ", "")
	require.Equal(t, []any{}, d["leafs"])
}

// jsProvider is a JSZ provider that also checks health.
type jsProvider struct {
	mu     sync.Mutex
	health error
}

func (j *jsProvider) NewOptions() any { return new(snapshot.JszOptions) }

func (j *jsProvider) Snapshot(opts any) (any, error) {
	o := opts.(*snapshot.JszOptions)
	return map[string]any{"server_id": "js", "streams": 3, "account": o.Account}, nil
}

func (j *jsProvider) CheckHealth(o *snapshot.HealthzOptions) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if o.JSEnabledOnly {
		return nil
	}
	return j.health
}

func (j *jsProvider) set(err error) {
	j.mu.Lock()
	j.health = err
	j.mu.Unlock()
}

// TestRegistryHealthChecker: a provider that checks health takes part in
// HEALTHZ, over $SYS and through Healthz.
func TestRegistryHealthChecker(t *testing.T) {
	s := servertest.Start(t, sysOptions())
	sys := servertest.Connect(t, s, nats.UserInfo("sys", "psys"))
	js := &jsProvider{}
	s.RegisterProvider(server.KindJsz, js)

	d := sysData(t, sys, "$SYS.REQ.SERVER.PING.JSZ", `{"account":"A"}`)
	require.Equal(t, map[string]any{"server_id": "js", "streams": float64(3), "account": "A"}, d)
	require.Equal(t, "ok", sysData(t, sys, "$SYS.REQ.SERVER.PING.HEALTHZ", "")["status"])

	js.set(errors.New("JetStream is not current"))
	d = sysData(t, sys, "$SYS.REQ.SERVER.PING.HEALTHZ", "")
	require.Equal(t, map[string]any{"status": "unavailable", "status_code": float64(503), "error": "JetStream is not current"}, d)
	require.Equal(t, "ok", s.Healthz(&snapshot.HealthzOptions{JSEnabledOnly: true}).Status)

	s.RegisterProvider(server.KindJsz, nil)
	require.Equal(t, "ok", s.Healthz(nil).Status)
}

// TestRegistryVarzContributor: a contributor fills its section of every
// Varz, in the order of the section names; nil removes it.
func TestRegistryVarzContributor(t *testing.T) {
	s := servertest.Start(t, sysOptions())
	sys := servertest.Connect(t, s, nats.UserInfo("sys", "psys"))

	s.RegisterVarz("leaf", server.VarzFunc(func(v *snapshot.Varz) {
		v.LeafNode = snapshot.LeafNodeOptsVarz{Host: "0.0.0.0", Port: 7422}
		v.Leafs = 2
	}))
	s.RegisterVarz("mqtt", server.VarzFunc(func(v *snapshot.Varz) {
		v.MQTT.Port = v.LeafNode.Port + 1 // runs after "leaf"
	}))
	v, err := s.Varz(nil)
	require.NoError(t, err)
	require.Equal(t, 7422, v.LeafNode.Port)
	require.Equal(t, 7423, v.MQTT.Port)
	require.Equal(t, 2, v.Leafs)

	d := sysData(t, sys, "$SYS.REQ.SERVER.PING.VARZ", "")
	require.Equal(t, map[string]any{"host": "0.0.0.0", "port": float64(7422)}, d["leaf"])
	require.EqualValues(t, 2, d["leafnodes"])

	// Replacing a section, then removing both.
	s.RegisterVarz("leaf", server.VarzFunc(func(v *snapshot.Varz) { v.LeafNode.Port = 1 }))
	v, _ = s.Varz(nil)
	require.Equal(t, snapshot.LeafNodeOptsVarz{Port: 1}, v.LeafNode)
	require.Equal(t, 2, v.MQTT.Port)
	s.RegisterVarz("leaf", nil)
	s.RegisterVarz("mqtt", nil)
	d = sysData(t, sys, "$SYS.REQ.SERVER.PING.VARZ", "")
	require.Equal(t, map[string]any{}, d["leaf"])
	require.Equal(t, map[string]any{}, d["mqtt"])
	require.EqualValues(t, 0, d["leafnodes"])
}

// TestLameDuckListener: the listeners run once, in order, when the
// server enters lame duck mode; a removed one does not.
func TestLameDuckListener(t *testing.T) {
	s := servertest.Start(t, server.Options{LameDuckGracePeriod: time.Hour})
	var got []string
	ran := make(chan struct{})
	s.AddLameDuckListener(func() { got = append(got, "first") })
	remove := s.AddLameDuckListener(func() { got = append(got, "removed") })
	s.AddLameDuckListener(func() { got = append(got, "last"); close(ran) })
	remove()
	remove()
	done := make(chan error, 1)
	go func() { done <- s.LameDuck(context.Background()) }()
	<-ran
	require.NoError(t, <-done) // no clients: no grace period
	require.Equal(t, []string{"first", "last"}, got)
}

func TestRegistryLookup(t *testing.T) {
	s := servertest.Start(t, server.Options{})
	for _, k := range []string{"VARZ", "connz", "Subsz", "ACCOUNTZ", "STATZ", "ACCSTATZ", "HEALTHZ", "ROUTEZ", "GATEWAYZ", "LEAFZ", "JSZ"} {
		require.NotNil(t, s.Provider(k), k)
		b, err := s.MonitorRequest(k, nil)
		require.NoError(t, err, k)
		require.True(t, json.Valid(b), k)
	}
	require.Nil(t, s.Provider("NOPEZ"))
	_, err := s.Snapshot("NOPEZ", nil)
	require.ErrorIs(t, err, server.ErrUnknownKind)

	// A kind of one's own is answered by Snapshot and MonitorRequest.
	s.RegisterProvider("MQTTZ", server.ProviderFunc(func(*struct{}) (string, error) { return "hello", nil }))
	d, err := s.Snapshot("mqttz", nil)
	require.NoError(t, err)
	require.Equal(t, "hello", d)
	b, err := s.MonitorRequest("MQTTZ", nil)
	require.NoError(t, err)
	require.Contains(t, string(b), `"data":"hello"`)

	// Options of the wrong type.
	_, err = s.Snapshot(server.KindConnz, &snapshot.SubszOptions{})
	require.ErrorIs(t, err, server.ErrWrongType)
	// A ROUTEZ provider answering another document breaks Routez only.
	s.RegisterProvider(server.KindRoutez, server.ProviderFunc(func(*snapshot.RoutezOptions) (string, error) { return "x", nil }))
	_, err = s.Routez(nil)
	require.ErrorIs(t, err, server.ErrWrongType)

	for _, bad := range []string{"", "A.B", "X*", ">"} {
		require.Panics(t, func() { s.RegisterProvider(bad, nil) }, bad)
	}
}

// TestRegistryConcurrent registers and unregisters while others read;
// run with -race.
func TestRegistryConcurrent(t *testing.T) {
	s := servertest.Start(t, server.Options{})
	p := server.ProviderFunc((&leafProvider{}).leafz)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := s.Snapshot(server.KindLeafz, nil); err != nil {
					t.Error(err)
					return
				}
				if _, err := s.Varz(nil); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	deadline := time.Now().Add(200 * time.Millisecond)
	for i := 0; time.Now().Before(deadline); i++ {
		if i%2 == 0 {
			s.RegisterProvider(server.KindLeafz, p)
			s.RegisterVarz("leaf", server.VarzFunc(func(v *snapshot.Varz) { v.Leafs = 1 }))
		} else {
			s.RegisterProvider(server.KindLeafz, nil)
			s.RegisterVarz("leaf", nil)
		}
	}
	close(stop)
	wg.Wait()
}
