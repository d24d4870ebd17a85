package protocol_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"natsd.dev/protocol"
)

// errClass maps an error to the sentinel it wraps, so errors raised at
// different split points (whose detail may differ) compare equal.
func errClass(err error) string {
	for _, s := range []error{protocol.ErrUnknownOp, protocol.ErrMaxControlLine, protocol.ErrMaxPayload, protocol.ErrBadArgs, protocol.ErrMissingCRLF} {
		if errors.Is(err, s) {
			return s.Error()
		}
	}
	if err != nil {
		return "other: " + err.Error()
	}
	return "ok"
}

// fuzzConfig derives a parser configuration from a byte.
func fuzzConfig(c byte) protocol.Parser {
	p := protocol.Parser{Role: protocol.Role(c % 4)}
	if c&4 != 0 {
		p.MaxControlLine = 8 + int(c>>4)
	}
	if c&8 != 0 {
		p.MaxPayload = int(c >> 4)
		if p.MaxPayload == 15 {
			p.MaxPayload = protocol.MaxPayloadZero
		}
	}
	if c&0x10 != 0 && p.Role == protocol.RoleRoute {
		p.PinnedAccount = []byte("PIN")
	}
	if c&0x20 != 0 {
		p.LeafUnsubOrigin = true
	}
	return p
}

var chunkSeeds = []string{
	"PING\r\nPONG\r\n",
	"PUB foo 5\r\nhello\r\n",
	"pub foo bar 5\nhello\r\nSUB foo 1\r\nUNSUB 1 5\r\n",
	"HPUB foo 12 14\r\nNATS/1.0\r\n\r\nhi\r\n",
	"CONNECT {\"verbose\":false}\r\nINFO {}\r\n+OK\r\n-ERR 'x'\r\n",
	"MSG foo 1 5\r\nhello\r\nHMSG foo 1 r 2 3\r\nabc\r\n",
	"RS+ $G foo q 1\r\nRS- $G foo\r\nRMSG $G foo + r a b 2\r\nhi\r\nA+ $G\r\nA- $G\r\n",
	"HMSG $G foo | q 1 2\r\nab\r\nLS+ O $G foo\r\nLS- O $G foo\r\nLMSG O $G foo 0 1\r\nx\r\n",
	"LS+ foo q 2\r\nLS- foo\r\nLMSG foo + r q 1\r\nx\r\nHMSG foo 0 1\r\nx\r\n",
	"PUB foo 1\r\nxy\r\n",
	"SUB aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa 1\r\n",
	"XYZ\r\n",
	"PUB\r\n",
	"\r\n",
}

// FuzzChunking checks chunking invariance: random splits of the input
// produce exactly the frames and the error of a single Parse call, and a
// LineHandler gets each message's control line once, at the same place
// among the frames.
func FuzzChunking(f *testing.F) {
	for i, s := range chunkSeeds {
		for c := range 4 {
			f.Add(byte(c+i*16), uint64(i), []byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, cfg byte, seed uint64, in []byte) {
		conf := fuzzConfig(cfg)
		parse := parseAll
		if seed&1 != 0 {
			parse = parseAllLines
		}
		want, werr := parse(conf, in)
		rng := rand.New(rand.NewPCG(seed, uint64(len(in))))
		var chunks [][]byte
		for rest := in; len(rest) > 0; {
			n := 1 + rng.IntN(len(rest))
			if rng.IntN(3) == 0 {
				n = 1
			}
			// Each chunk gets its own array so reads past a view fail.
			chunks = append(chunks, append([]byte(nil), rest[:n]...))
			rest = rest[n:]
		}
		got, gerr := parse(conf, chunks...)
		if errClass(gerr) != errClass(werr) {
			t.Fatalf("cfg %+v: split error %v, whole error %v\nchunks %q", conf, gerr, werr, chunks)
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("cfg %+v: split frames\n%s\nwhole frames\n%s\nchunks %q", conf, strings.Join(got, "\n"), strings.Join(want, "\n"), chunks)
		}
	})
}

// op is a random operation: its encoding and the frame it must parse to.
type op struct {
	role protocol.Role
	wire []byte
	want string
}

func token(rng *rand.Rand) []byte {
	const chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._$*>-+|"
	b := make([]byte, 1+rng.IntN(12))
	for i := range b {
		b[i] = chars[rng.IntN(len(chars))]
	}
	// "+" and "|" alone are reply indicators; keep tokens unambiguous.
	if len(b) == 1 && (b[0] == '+' || b[0] == '|') {
		b[0] = 'x'
	}
	return b
}

func optToken(rng *rand.Rand) []byte {
	if rng.IntN(2) == 0 {
		return nil
	}
	return token(rng)
}

func payload(rng *rand.Rand) []byte {
	b := make([]byte, rng.IntN(40))
	for i := range b {
		b[i] = byte(rng.IntN(256))
	}
	return b
}

func queues(rng *rand.Rand) [][]byte {
	n := rng.IntN(4)
	if n == 0 {
		return nil
	}
	q := make([][]byte, n)
	for i := range q {
		q[i] = token(rng)
	}
	return q
}

func randomOp(rng *rand.Rand) op {
	F := func(f protocol.Frame) string { return frameString(&f) }
	subj, reply, pl := token(rng), optToken(rng), payload(rng)
	hdr := rng.IntN(len(pl) + 1)
	switch rng.IntN(22) {
	case 0:
		return op{protocol.RoleClient, protocol.AppendPub(nil, subj, reply, pl), F(protocol.Frame{Op: protocol.OpPub, Subject: subj, Reply: reply, Payload: pl, HeaderLen: -1})}
	case 1:
		return op{protocol.RoleClient, protocol.AppendHPub(nil, subj, reply, hdr, pl), F(protocol.Frame{Op: protocol.OpHPub, Subject: subj, Reply: reply, Payload: pl, HeaderLen: hdr})}
	case 2:
		q, sid := optToken(rng), token(rng)
		return op{protocol.RoleClient, protocol.AppendSub(nil, subj, q, sid), F(protocol.Frame{Op: protocol.OpSub, Subject: subj, Queue: q, SID: sid, HeaderLen: -1})}
	case 3:
		sid, max := token(rng), int64(rng.IntN(3)*rng.IntN(1000000))
		return op{protocol.RoleClient, protocol.AppendUnsub(nil, sid, max), F(protocol.Frame{Op: protocol.OpUnsub, SID: sid, Max: max, HeaderLen: -1})}
	case 4:
		sid := token(rng)
		return op{protocol.RoleServer, protocol.AppendMsg(nil, subj, sid, reply, pl), F(protocol.Frame{Op: protocol.OpMsg, Subject: subj, SID: sid, Reply: reply, Payload: pl, HeaderLen: -1})}
	case 5:
		sid := token(rng)
		return op{protocol.RoleServer, protocol.AppendHMsg(nil, subj, sid, reply, hdr, pl), F(protocol.Frame{Op: protocol.OpHMsg, Subject: subj, SID: sid, Reply: reply, Payload: pl, HeaderLen: hdr})}
	case 6:
		return op{protocol.Role(rng.IntN(4)), protocol.AppendPing(nil), "PING"}
	case 7:
		return op{protocol.Role(rng.IntN(4)), protocol.AppendPong(nil), "PONG"}
	case 8:
		return op{protocol.Role(rng.IntN(4)), protocol.AppendOK(nil), "+OK"}
	case 9:
		text := "Permissions Violation for Publish to " + string(subj)
		return op{protocol.Role(rng.IntN(4)), protocol.AppendErr(nil, text), F(protocol.Frame{Op: protocol.OpErr, Arg: []byte(text), HeaderLen: -1})}
	case 10:
		js := []byte(fmt.Sprintf(`{"server_id":%q}`, subj))
		return op{protocol.Role(rng.IntN(4)), protocol.AppendInfo(nil, js), F(protocol.Frame{Op: protocol.OpInfo, Arg: js, HeaderLen: -1})}
	case 11:
		js := []byte(fmt.Sprintf(`{"name":%q}`, subj))
		return op{protocol.RoleClient, protocol.AppendConnect(nil, js), F(protocol.Frame{Op: protocol.OpConnect, Arg: js, HeaderLen: -1})}
	case 12:
		acc, q := token(rng), optToken(rng)
		w := int32(1)
		if q != nil {
			w = int32(rng.IntN(100))
		}
		return op{protocol.RoleRoute, protocol.AppendRSub(nil, acc, subj, q, w), F(protocol.Frame{Op: protocol.OpRSub, Account: acc, Subject: subj, Queue: q, Weight: w, HeaderLen: -1})}
	case 13:
		acc, q := token(rng), optToken(rng)
		return op{protocol.RoleRoute, protocol.AppendRUnsub(nil, acc, subj, q), F(protocol.Frame{Op: protocol.OpRUnsub, Account: acc, Subject: subj, Queue: q, HeaderLen: -1})}
	case 14:
		acc, qs := token(rng), queues(rng)
		return op{protocol.RoleRoute, protocol.AppendRMsg(nil, acc, subj, reply, qs, pl), F(protocol.Frame{Op: protocol.OpRMsg, Account: acc, Subject: subj, Reply: reply, Queues: qs, Payload: pl, HeaderLen: -1})}
	case 15:
		acc, qs := token(rng), queues(rng)
		return op{protocol.RoleRoute, protocol.AppendRHMsg(nil, acc, subj, reply, qs, hdr, pl), F(protocol.Frame{Op: protocol.OpHMsg, Account: acc, Subject: subj, Reply: reply, Queues: qs, Payload: pl, HeaderLen: hdr})}
	case 16:
		q := optToken(rng)
		w := int32(1)
		if q != nil {
			w = int32(rng.IntN(100))
		}
		return op{protocol.RoleLeaf, protocol.AppendLSub(nil, subj, q, w), F(protocol.Frame{Op: protocol.OpLSub, Subject: subj, Queue: q, Weight: w, HeaderLen: -1})}
	case 17:
		q := optToken(rng)
		return op{protocol.RoleLeaf, protocol.AppendLUnsub(nil, subj, q), F(protocol.Frame{Op: protocol.OpLUnsub, Subject: subj, Queue: q, HeaderLen: -1})}
	case 18:
		qs := queues(rng)
		if rng.IntN(2) == 0 {
			return op{protocol.RoleLeaf, protocol.AppendLHMsg(nil, subj, reply, qs, hdr, pl), F(protocol.Frame{Op: protocol.OpHMsg, Subject: subj, Reply: reply, Queues: qs, Payload: pl, HeaderLen: hdr})}
		}
		return op{protocol.RoleLeaf, protocol.AppendLMsg(nil, subj, reply, qs, pl), F(protocol.Frame{Op: protocol.OpLMsg, Subject: subj, Reply: reply, Queues: qs, Payload: pl, HeaderLen: -1})}
	case 19:
		origin, acc, q := token(rng), token(rng), optToken(rng)
		w := int32(1)
		if q != nil {
			w = int32(rng.IntN(100))
		}
		return op{protocol.RoleRoute, protocol.AppendRouteLSub(nil, origin, acc, subj, q, w), F(protocol.Frame{Op: protocol.OpLSub, Origin: origin, Account: acc, Subject: subj, Queue: q, Weight: w, HeaderLen: -1})}
	case 20:
		origin, acc, qs := token(rng), token(rng), queues(rng)
		return op{protocol.RoleRoute, protocol.AppendRouteLMsg(nil, origin, acc, subj, reply, qs, hdr, pl), F(protocol.Frame{Op: protocol.OpLMsg, Origin: origin, Account: acc, Subject: subj, Reply: reply, Queues: qs, Payload: pl, HeaderLen: hdr})}
	default:
		acc := token(rng)
		if rng.IntN(2) == 0 {
			return op{protocol.RoleRoute, protocol.AppendASub(nil, acc), F(protocol.Frame{Op: protocol.OpASub, Account: acc, HeaderLen: -1})}
		}
		return op{protocol.RoleRoute, protocol.AppendAUnsub(nil, acc), F(protocol.Frame{Op: protocol.OpAUnsub, Account: acc, HeaderLen: -1})}
	}
}

// FuzzRoundTrip encodes random operations of one role, parses the stream
// back (split at random points) and compares every frame with what was
// encoded.
func FuzzRoundTrip(f *testing.F) {
	for i := range 16 {
		f.Add(uint64(i), uint8(i*7))
	}
	f.Fuzz(func(t *testing.T, seed uint64, n uint8) {
		rng := rand.New(rand.NewPCG(seed, uint64(n)))
		role := protocol.Role(rng.IntN(4))
		var stream []byte
		var want []string
		for len(want) < int(n%32)+1 {
			o := randomOp(rng)
			if o.role != role {
				continue
			}
			stream = append(stream, o.wire...)
			want = append(want, o.want)
		}
		var chunks [][]byte
		for rest := stream; len(rest) > 0; {
			k := 1 + rng.IntN(len(rest))
			chunks = append(chunks, append([]byte(nil), rest[:k]...))
			rest = rest[k:]
		}
		got, err := parseAll(protocol.Parser{Role: role}, chunks...)
		if err != nil {
			t.Fatalf("role %s: %v\nstream %q", role, err, stream)
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("role %s:\ngot\n%s\nwant\n%s\nstream %q", role, strings.Join(got, "\n"), strings.Join(want, "\n"), stream)
		}
	})
}
