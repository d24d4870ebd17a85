package main

// Interoperability of the binary's MQTT front end with the mosquitto
// command-line clients, MQTT 3.1.1 and 5.0: QoS 1/2 messages with MQTT 5
// user properties (seen by NATS subscribers as headers), retained
// messages, and a persistent session across a restart of the binary that
// mosquitto_sub resumes by subscribing again.

import (
	"bufio"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// mosq is a running mosquitto_sub whose output lines arrive on lines.
type mosq struct {
	t     *testing.T
	lines chan string
	done  chan struct{} // closed once it exited, with err set
	err   error
}

// mosquittoSub starts mosquitto_sub on s's MQTT listener with args.
func (s *mqServer) mosquittoSub(bin string, args ...string) *mosq {
	s.t.Helper()
	host, port, _ := strings.Cut(s.addr, ":")
	ctx, cancel := context.WithTimeout(s.t.Context(), 30*time.Second)
	s.t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, bin, append([]string{"-h", host, "-p", port}, args...)...)
	out, err := cmd.StdoutPipe()
	require.NoError(s.t, err)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	require.NoError(s.t, cmd.Start())
	m := &mosq{t: s.t, lines: make(chan string, 100), done: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			m.lines <- sc.Text()
		}
		if err := cmd.Wait(); err != nil {
			m.err = fmt.Errorf("%w: %s", err, stderr.String())
		}
		close(m.done)
	}()
	s.t.Cleanup(func() {
		cancel()
		<-m.done
	})
	return m
}

func (m *mosq) line() string {
	m.t.Helper()
	select {
	case l := <-m.lines:
		return l
	case <-m.done:
		select {
		case l := <-m.lines:
			return l
		default:
		}
		m.t.Fatalf("mosquitto_sub exited: %v", m.err)
	case <-time.After(interopWait):
		m.t.Fatalf("no line from mosquitto_sub within %v", interopWait)
	}
	return ""
}

// exited waits for mosquitto_sub to exit and checks that it succeeded.
func (m *mosq) exited() {
	m.t.Helper()
	select {
	case <-m.done:
		require.NoError(m.t, m.err)
	case <-time.After(interopWait):
		m.t.Fatal("mosquitto_sub did not exit")
	}
}

// mosquittoPub runs mosquitto_pub on s's MQTT listener to completion.
func (s *mqServer) mosquittoPub(bin string, args ...string) {
	s.t.Helper()
	host, port, _ := strings.Cut(s.addr, ":")
	ctx, cancel := context.WithTimeout(s.t.Context(), interopWait)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, append([]string{"-h", host, "-p", port}, args...)...).CombinedOutput()
	require.NoError(s.t, err, string(out))
}

// untilLine publishes with pub until m prints a line (a subscriber says
// nothing when its SUBACK arrives) and returns it.
func (s *mqServer) untilLine(m *mosq, pub func()) string {
	s.t.Helper()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(interopWait)
	for {
		select {
		case l := <-m.lines:
			return l
		case <-tick.C:
			pub()
		case <-deadline:
			s.t.Fatal("mosquitto_sub printed nothing")
			return ""
		}
	}
}

var mosquittoVersions = []string{"mqttv311", "mqttv5"}

func TestMQTTInteropMosquittoQoSAndProperties(t *testing.T) {
	pubBin := mosquittoTool(t, "NATSD_MOSQUITTO_PUB")
	subBin := mosquittoTool(t, "NATSD_MOSQUITTO_SUB")
	s := startInterop(t, "")
	nc := s.p.connect()
	for _, v := range mosquittoVersions {
		t.Run(v, func(t *testing.T) {
			s.t = t
			for _, q := range []string{"1", "2"} {
				topic := "mosq/" + v + "/q" + q
				natsSub, err := nc.SubscribeSync(strings.ReplaceAll(topic, "/", "."))
				require.NoError(t, err)
				require.NoError(t, nc.Flush())
				// %q is the QoS, %P the user properties (MQTT 5 only).
				sub := s.mosquittoSub(subBin, "-V", v, "-i", clientID(t, "sub"+q), "-q", "2", "-t", topic, "-C", "1", "-F", "%t %q %P %p")
				args := []string{"-V", v, "-i", clientID(t, "pub"+q), "-q", q, "-t", topic, "-m", "payload " + q}
				if v == "mqttv5" {
					args = append(args, "-D", "publish", "user-property", "colour", "blue")
				}
				l := s.untilLine(sub, func() { s.mosquittoPub(pubBin, args...) })
				sub.exited()
				want := topic + " " + q + "  payload " + q
				if v == "mqttv5" {
					want = topic + " " + q + " colour:blue payload " + q
				}
				require.Equal(t, want, l)
				m, err := natsSub.NextMsg(interopWait)
				require.NoError(t, err)
				require.Equal(t, "payload "+q, string(m.Data))
				require.Equal(t, q, m.Header.Get("Nmqtt-Pub"))
				if v == "mqttv5" {
					require.Equal(t, "blue", m.Header.Get("colour"))
				}
			}
		})
	}
}

func TestMQTTInteropMosquittoRetained(t *testing.T) {
	pubBin := mosquittoTool(t, "NATSD_MOSQUITTO_PUB")
	subBin := mosquittoTool(t, "NATSD_MOSQUITTO_SUB")
	s := startInterop(t, "")
	for _, v := range mosquittoVersions {
		t.Run(v, func(t *testing.T) {
			s.t = t
			topic := "mosq/" + v + "/retained"
			s.mosquittoPub(pubBin, "-V", v, "-q", "1", "-r", "-t", topic, "-m", "kept")
			// %r: the retain flag.
			sub := s.mosquittoSub(subBin, "-V", v, "-q", "1", "-t", topic, "-C", "1", "-F", "%r %t %p")
			require.Equal(t, "1 "+topic+" kept", sub.line())
			sub.exited()

			// -n: an empty retained message clears the topic, so a new
			// subscriber's first message is a live one.
			s.mosquittoPub(pubBin, "-V", v, "-q", "1", "-r", "-n", "-t", topic)
			sub = s.mosquittoSub(subBin, "-V", v, "-q", "1", "-t", topic, "-C", "1", "-F", "%r %t %p")
			l := s.untilLine(sub, func() { s.mosquittoPub(pubBin, "-V", v, "-q", "1", "-t", topic, "-m", "live") })
			require.Equal(t, "0 "+topic+" live", l)
			sub.exited()
		})
	}
}

// TestMQTTInteropMosquittoPersistentSession: mosquitto_sub -c keeps its
// session; QoS 1 and 2 messages published while it is away come once
// each when it is back, after a restart of the binary too, although it
// subscribes again on every connection.
func TestMQTTInteropMosquittoPersistentSession(t *testing.T) {
	pubBin := mosquittoTool(t, "NATSD_MOSQUITTO_PUB")
	subBin := mosquittoTool(t, "NATSD_MOSQUITTO_SUB")
	for _, v := range mosquittoVersions {
		for _, restart := range []struct {
			name string
			sig  syscall.Signal
		}{{"SIGTERM", syscall.SIGTERM}, {"SIGKILL", syscall.SIGKILL}} {
			t.Run(v+" "+restart.name, func(t *testing.T) {
				s := startInterop(t, "")
				id := clientID(t, "away")
				session := func(args ...string) *mosq {
					all := []string{"-V", v, "-c", "-i", id, "-q", "2", "-t", "mosq/away/+", "-F", "%t %p"}
					if v == "mqttv5" {
						all = append(all, "-x", "600") // session expiry
					}
					return s.mosquittoSub(subBin, append(all, args...)...)
				}
				// -E: exit once subscribed.
				session("-E").exited()
				s.waitGone(id) // see TestMQTTInteropOfflineQueueing
				for q := range 3 {
					for i := range 2 {
						s.mosquittoPub(pubBin, "-V", v, "-q", fmt.Sprint(q), "-t", fmt.Sprintf("mosq/away/q%d", q), "-m", fmt.Sprint("before ", i))
					}
				}
				// Some delivered and acknowledged, then more while away.
				sub := session("-C", "4")
				got := map[string]int{}
				for range 4 {
					got[sub.line()]++
				}
				sub.exited()
				s.waitGone(id)
				require.Equal(t, map[string]int{"mosq/away/q1 before 0": 1, "mosq/away/q1 before 1": 1, "mosq/away/q2 before 0": 1, "mosq/away/q2 before 1": 1}, got)
				for q := 1; q < 3; q++ {
					for i := range 3 {
						s.mosquittoPub(pubBin, "-V", v, "-q", fmt.Sprint(q), "-t", fmt.Sprintf("mosq/away/q%d", q), "-m", fmt.Sprint("after ", i))
					}
				}
				s.restart(restart.sig)
				sub = session("-C", "7")
				got = map[string]int{}
				for range 6 {
					got[sub.line()]++
				}
				want := map[string]int{}
				for q := 1; q < 3; q++ {
					for i := range 3 {
						want[fmt.Sprintf("mosq/away/q%d after %d", q, i)] = 1
					}
				}
				require.Equal(t, want, got)
				// Nothing more: the next line is a new message.
				s.mosquittoPub(pubBin, "-V", v, "-q", "2", "-t", "mosq/away/q2", "-m", "marker")
				require.Equal(t, "mosq/away/q2 marker", sub.line())
				sub.exited()
			})
		}
	}
}
