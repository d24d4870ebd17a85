package protocol_test

import (
	"testing"

	"natsd.dev/protocol"
)

type nopHandler struct{ n int }

func (h *nopHandler) HandleFrame(f *protocol.Frame) error {
	h.n += len(f.Payload)
	return nil
}

// Parsing the hot operations allocates nothing in steady state, whether
// the input arrives whole or split inside the control line and payload.
func TestParseAllocs(t *testing.T) {
	hdr := "NATS/1.0\r\nA: 1\r\n\r\n"
	cases := []struct {
		name string
		role protocol.Role
		in   string
	}{
		{"PUB", protocol.RoleClient, "PUB foo.bar _INBOX.abc 11\r\nhello world\r\n"},
		{"HPUB", protocol.RoleClient, "HPUB foo.bar 18 22\r\n" + hdr + "body\r\n"},
		{"MSG", protocol.RoleServer, "MSG foo.bar 12 _INBOX.abc 11\r\nhello world\r\n"},
		{"HMSG", protocol.RoleServer, "HMSG foo.bar 12 18 22\r\n" + hdr + "body\r\n"},
		{"RMSG", protocol.RoleRoute, "RMSG $G foo.bar + _INBOX.abc q1 q2 11\r\nhello world\r\n"},
		{"LMSG", protocol.RoleLeaf, "LMSG foo.bar | q1 q2 11\r\nhello world\r\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := []byte(tc.in)
			p := protocol.Parser{Role: tc.role}
			h := &nopHandler{}
			whole := testing.AllocsPerRun(100, func() {
				if err := p.Parse(in, h); err != nil {
					t.Fatal(err)
				}
			})
			if whole != 0 {
				t.Errorf("whole: %v allocs per op", whole)
			}
			for _, cut := range []int{5, len(in) - 6} {
				a, b := in[:cut], in[cut:]
				split := testing.AllocsPerRun(100, func() {
					if err := p.Parse(a, h); err != nil {
						t.Fatal(err)
					}
					if err := p.Parse(b, h); err != nil {
						t.Fatal(err)
					}
				})
				if split != 0 {
					t.Errorf("split at %d: %v allocs per op", cut, split)
				}
			}
		})
	}
}

func TestEncodeAllocs(t *testing.T) {
	subj, sid, reply := []byte("foo.bar"), []byte("12"), []byte("_INBOX.abc")
	acc, pl := []byte("$G"), []byte("hello world")
	qs := [][]byte{[]byte("q1"), []byte("q2")}
	buf := make([]byte, 0, 4096)
	allocs := testing.AllocsPerRun(100, func() {
		b := buf[:0]
		b = protocol.AppendMsg(b, subj, sid, reply, pl)
		b = protocol.AppendHMsg(b, subj, sid, reply, 2, pl)
		b = protocol.AppendMsgHeader(b, subj, sid, reply, len(pl))
		b = protocol.AppendHMsgHeader(b, subj, sid, reply, 2, len(pl))
		b = protocol.AppendPub(b, subj, reply, pl)
		b = protocol.AppendHPub(b, subj, reply, 2, pl)
		b = protocol.AppendSub(b, subj, nil, sid)
		b = protocol.AppendUnsub(b, sid, 5)
		b = protocol.AppendInfo(b, []byte("{}"))
		b = protocol.AppendConnect(b, []byte("{}"))
		b = protocol.AppendErr(b, protocol.TextUnknownOp)
		b = protocol.AppendPing(b)
		b = protocol.AppendPong(b)
		b = protocol.AppendOK(b)
		b = protocol.AppendRSub(b, acc, subj, qs[0], 3)
		b = protocol.AppendRUnsub(b, acc, subj, nil)
		b = protocol.AppendRMsg(b, acc, subj, reply, qs, pl)
		b = protocol.AppendRHMsg(b, acc, subj, nil, qs, 2, pl)
		b = protocol.AppendLSub(b, subj, qs[0], 1)
		b = protocol.AppendLUnsub(b, subj, nil)
		b = protocol.AppendLMsg(b, subj, reply, nil, pl)
		b = protocol.AppendLHMsg(b, subj, reply, qs, 2, pl)
		b = protocol.AppendRouteLSub(b, acc, acc, subj, nil, 1)
		b = protocol.AppendRouteLUnsub(b, acc, acc, subj, nil)
		b = protocol.AppendRouteLMsg(b, acc, acc, subj, reply, qs, 0, pl)
		b = protocol.AppendASub(b, acc)
		_ = protocol.AppendAUnsub(b, acc)
	})
	if allocs != 0 {
		t.Errorf("encoders: %v allocs per run", allocs)
	}
}
