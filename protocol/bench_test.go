package protocol_test

import (
	"bytes"
	"testing"
	"time"

	"natsd.dev/protocol"
)

// benchStream builds a buffer holding n copies of op.
func benchStream(op []byte, n int) []byte {
	return bytes.Repeat(op, n)
}

// benchParse parses a stream of 64 identical operations per iteration and
// reports the time per operation as ns/op.
func benchParse(b *testing.B, role protocol.Role, op []byte) {
	const n = 64
	stream := benchStream(op, n)
	p := protocol.Parser{Role: role}
	h := &nopHandler{}
	defer lockThread()()
	b.ReportAllocs()
	b.SetBytes(int64(len(stream)))
	iters := 0
	var cpu time.Duration
	for b.Loop() {
		if iters == 0 {
			cpu = threadCPU()
		}
		if err := p.Parse(stream, h); err != nil {
			b.Fatal(err)
		}
		iters++
	}
	cpu = threadCPU() - cpu
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(iters*n), "ns/frame")
	if cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(iters*n), "cpu-ns/frame")
	}
}

func pubOp(size int) []byte {
	return protocol.AppendPub(nil, []byte("foo.bar.baz"), nil, bytes.Repeat([]byte("x"), size))
}

func BenchmarkParsePub16(b *testing.B)  { benchParse(b, protocol.RoleClient, pubOp(16)) }
func BenchmarkParsePub128(b *testing.B) { benchParse(b, protocol.RoleClient, pubOp(128)) }
func BenchmarkParsePub4K(b *testing.B)  { benchParse(b, protocol.RoleClient, pubOp(4096)) }

func BenchmarkParseHPub128(b *testing.B) {
	hdr := "NATS/1.0\r\nNats-Msg-Id: 1234567890\r\n\r\n"
	pl := append([]byte(hdr), bytes.Repeat([]byte("x"), 128-len(hdr))...)
	benchParse(b, protocol.RoleClient, protocol.AppendHPub(nil, []byte("foo.bar.baz"), []byte("_INBOX.reply"), len(hdr), pl))
}

func BenchmarkParseMsg128(b *testing.B) {
	benchParse(b, protocol.RoleServer, protocol.AppendMsg(nil, []byte("foo.bar.baz"), []byte("12"), []byte("_INBOX.reply"), bytes.Repeat([]byte("x"), 128)))
}

func BenchmarkParseRMsg128(b *testing.B) {
	qs := [][]byte{[]byte("workers"), []byte("auditors")}
	benchParse(b, protocol.RoleRoute, protocol.AppendRMsg(nil, []byte("$G"), []byte("foo.bar.baz"), []byte("_INBOX.reply"), qs, bytes.Repeat([]byte("x"), 128)))
}

// BenchmarkParseSplit128 feeds PUB 128 B where every operation spans two
// reads: the cut falls inside the payload, so the control line and the
// start of the payload are copied into scratch space each time.
func BenchmarkParseSplit128(b *testing.B) {
	op := pubOp(128)
	cut := len(op) / 2
	// Reads are op[cut:]+op[:cut] so each read ends inside an operation.
	first := op[:cut]
	middle := append(append([]byte(nil), op[cut:]...), op[:cut]...)
	p := protocol.Parser{}
	h := &nopHandler{}
	if err := p.Parse(first, h); err != nil {
		b.Fatal(err)
	}
	defer lockThread()()
	b.ReportAllocs()
	b.SetBytes(int64(len(op)))
	cpu := cpuMeter(b)
	for b.Loop() {
		if err := p.Parse(middle, h); err != nil {
			b.Fatal(err)
		}
	}
	cpu()
}

// BenchmarkParseSplitLine128 cuts inside the control line instead.
func BenchmarkParseSplitLine128(b *testing.B) {
	op := pubOp(128)
	cut := 8
	middle := append(append([]byte(nil), op[cut:]...), op[:cut]...)
	p := protocol.Parser{}
	h := &nopHandler{}
	if err := p.Parse(op[:cut], h); err != nil {
		b.Fatal(err)
	}
	defer lockThread()()
	b.ReportAllocs()
	b.SetBytes(int64(len(op)))
	cpu := cpuMeter(b)
	for b.Loop() {
		if err := p.Parse(middle, h); err != nil {
			b.Fatal(err)
		}
	}
	cpu()
}

var (
	bSubj  = []byte("foo.bar.baz")
	bSID   = []byte("12")
	bReply = []byte("_INBOX.reply")
	bAcc   = []byte("$G")
	bPay   = bytes.Repeat([]byte("x"), 128)
	bQs    = [][]byte{[]byte("workers"), []byte("auditors")}
)

func benchEncode(b *testing.B, size int, fn func(dst []byte) []byte) {
	buf := make([]byte, 0, 4096)
	defer lockThread()()
	b.ReportAllocs()
	b.SetBytes(int64(size))
	cpu := cpuMeter(b)
	for b.Loop() {
		buf = fn(buf[:0])
	}
	cpu()
}

// cpuMeter starts measuring thread CPU time; the returned function reports
// it per iteration as cpu-ns/op.
func cpuMeter(b *testing.B) func() {
	start := threadCPU()
	return func() {
		if d := threadCPU() - start; d > 0 && b.N > 0 {
			b.ReportMetric(float64(d.Nanoseconds())/float64(b.N), "cpu-ns/op")
		}
	}
}

func BenchmarkAppendMsg128(b *testing.B) {
	benchEncode(b, 128, func(d []byte) []byte { return protocol.AppendMsg(d, bSubj, bSID, bReply, bPay) })
}

func BenchmarkAppendMsgHeader(b *testing.B) {
	benchEncode(b, 0, func(d []byte) []byte { return protocol.AppendMsgHeader(d, bSubj, bSID, bReply, 128) })
}

func BenchmarkAppendHMsg128(b *testing.B) {
	benchEncode(b, 128, func(d []byte) []byte { return protocol.AppendHMsg(d, bSubj, bSID, bReply, 40, bPay) })
}

func BenchmarkAppendPub128(b *testing.B) {
	benchEncode(b, 128, func(d []byte) []byte { return protocol.AppendPub(d, bSubj, bReply, bPay) })
}

func BenchmarkAppendRMsg128(b *testing.B) {
	benchEncode(b, 128, func(d []byte) []byte { return protocol.AppendRMsg(d, bAcc, bSubj, bReply, bQs, bPay) })
}

func BenchmarkAppendRSub(b *testing.B) {
	benchEncode(b, 0, func(d []byte) []byte { return protocol.AppendRSub(d, bAcc, bSubj, bQs[0], 3) })
}
