package packet

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"testing"
	"testing/iotest"
)

// FuzzReader feeds random streams to a Reader. Oracles: no panic; the
// buffer never holds more than the larger of its size and the maximum, nor
// more than twice the bytes received; every packet is within the maximum;
// reading the stream one byte at a time gives the same packets and the
// same kind of error.
func FuzzReader(f *testing.F) {
	data, _ := stream()
	f.Add(data, uint16(0))
	f.Add(data, uint16(100))
	f.Add([]byte{0x30, 0xff, 0xff, 0xff, 0x7f, 0}, uint16(0))
	f.Add([]byte{0x30, 0x80, 0x80, 0x80, 0x80, 1}, uint16(0))
	f.Add([]byte{0x82, 6, 0, 1, 0, 1, 'a', 0, 0xc0}, uint16(8))
	f.Fuzz(func(t *testing.T, data []byte, max16 uint16) {
		const size = 64
		limit := int(max16)
		cr := &countingReader{r: bytes.NewReader(data)}
		r := NewReader(cr, size)
		r.SetMax(limit)
		var pkts [][]byte
		var err error
		for {
			var typ, flags byte
			var body []byte
			typ, flags, body, err = r.Next()
			if len(r.buf) > size && (limit > 0 && len(r.buf) > limit || len(r.buf) > 2*cr.n) {
				t.Fatalf("buffer %d bytes, max %d, received %d", len(r.buf), limit, cr.n)
			}
			if err != nil {
				break
			}
			if n := 1 + varintLen(len(body)) + len(body); limit > 0 && n > limit {
				t.Fatalf("packet of %d bytes past the maximum %d", n, limit)
			}
			pkts = append(pkts, append([]byte{typ<<4 | flags}, body...))
		}
		got, err2 := readAll(iotest.OneByteReader(bytes.NewReader(data)), size, limit)
		if !reflect.DeepEqual(got, pkts) {
			t.Fatalf("byte-at-a-time read %d packets, whole %d", len(got), len(pkts))
		}
		if errKind(err) != errKind(err2) {
			t.Fatalf("errors differ: %v and %v", err, err2)
		}
	})
}

func errKind(err error) string {
	for _, s := range []error{ErrMalformed, ErrTooLarge, io.EOF, io.ErrUnexpectedEOF} {
		if errors.Is(err, s) {
			return s.Error()
		}
	}
	return "other: " + err.Error()
}

// FuzzSplit reads the sample stream cut in two at random points, which must
// give the same packets as one read.
func FuzzSplit(f *testing.F) {
	data, pkts := stream()
	want := unframe(f, pkts)
	f.Add(uint16(1), uint16(3))
	f.Fuzz(func(t *testing.T, i, j uint16) {
		a, b := min(int(i), len(data)), min(int(j), len(data))
		a, b = min(a, b), max(a, b)
		c := chunks{data[:a:a], data[a:b:b], data[b:]}
		got, err := readAll(&c, 64, 0)
		if err != io.EOF || !reflect.DeepEqual(got, want) {
			t.Fatalf("split at %d, %d: %d packets, %v", a, b, len(got), err)
		}
	})
}

// seed adds the sample bodies of packet types typs to f, as (version,
// flags, body) or (version, body) when withFlags is false.
func seed(f *testing.F, withFlags bool, typs ...byte) {
	for _, s := range samples() {
		for _, typ := range typs {
			if s.typ != typ {
				continue
			}
			_, flags, body := onePacket(f, encodeAny(nil, s.v, s.typ, s.x))
			if withFlags {
				f.Add(s.v, flags, body)
			} else {
				f.Add(s.v, body)
			}
		}
	}
}

// version maps any fuzzed byte to one of the two protocol levels.
func version(v byte) byte {
	if v&1 == 0 {
		return V311
	}
	return V5
}

func FuzzDecodeConnect(f *testing.F) {
	seed(f, false, CONNECT)
	f.Fuzz(func(t *testing.T, v byte, body []byte) { roundTrip(t, version(v), CONNECT, 0, body) })
}

func FuzzDecodeConnack(f *testing.F) {
	seed(f, false, CONNACK)
	f.Fuzz(func(t *testing.T, v byte, body []byte) { roundTrip(t, version(v), CONNACK, 0, body) })
}

func FuzzDecodePublish(f *testing.F) {
	seed(f, true, PUBLISH)
	f.Fuzz(func(t *testing.T, v, flags byte, body []byte) { roundTrip(t, version(v), PUBLISH, flags&0x0f, body) })
}

func FuzzDecodeAck(f *testing.F) {
	for _, s := range samples() {
		if a, ok := s.x.(*Ack); ok {
			f.Add(s.v, s.typ, AppendAck(nil, s.v, s.typ, a)[2:])
		}
	}
	f.Fuzz(func(t *testing.T, v, typ byte, body []byte) {
		typ = PUBACK + typ%4
		roundTrip(t, version(v), typ, fixedFlags[typ], body)
	})
}

func FuzzDecodeSubscribe(f *testing.F) {
	seed(f, false, SUBSCRIBE)
	f.Fuzz(func(t *testing.T, v byte, body []byte) { roundTrip(t, version(v), SUBSCRIBE, 2, body) })
}

func FuzzDecodeSuback(f *testing.F) {
	seed(f, false, SUBACK)
	f.Fuzz(func(t *testing.T, v byte, body []byte) { roundTrip(t, version(v), SUBACK, 0, body) })
}

func FuzzDecodeUnsubscribe(f *testing.F) {
	seed(f, false, UNSUBSCRIBE)
	f.Fuzz(func(t *testing.T, v byte, body []byte) { roundTrip(t, version(v), UNSUBSCRIBE, 2, body) })
}

func FuzzDecodeUnsuback(f *testing.F) {
	seed(f, false, UNSUBACK)
	f.Fuzz(func(t *testing.T, v byte, body []byte) { roundTrip(t, version(v), UNSUBACK, 0, body) })
}

func FuzzDecodeDisconnect(f *testing.F) {
	seed(f, false, DISCONNECT)
	f.Fuzz(func(t *testing.T, v byte, body []byte) { roundTrip(t, version(v), DISCONNECT, 0, body) })
}

func FuzzDecodeAuth(f *testing.F) {
	seed(f, false, AUTH)
	f.Fuzz(func(t *testing.T, v byte, body []byte) { roundTrip(t, V5, AUTH, 0, body) })
}

// FuzzTopic checks ValidTopicName and ValidTopicFilter against each other
// and against the decoders: a valid name is a valid filter, a valid filter
// without wildcards is a valid name, and a valid name decodes in a PUBLISH.
func FuzzTopic(f *testing.F) {
	for _, s := range []string{"a/b", "a/+/#", "#", "+", "a b", "a\x00", "é/", "/", "a/#/b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		name, filter := ValidTopicName([]byte(s)), ValidTopicFilter(s)
		if name && !filter {
			t.Fatalf("%q is a valid name but not a valid filter", s)
		}
		if filter && !hasWildcard([]byte(s)) && !name {
			t.Fatalf("%q is a valid filter without wildcards but not a valid name", s)
		}
		if name {
			var p Publish
			_, flags, body := onePacket(t, AppendPublish(nil, V311, &Publish{Topic: []byte(s)}))
			if err := DecodePublish(V311, flags, body, &p); err != nil {
				t.Fatalf("valid name %q: %v", s, err)
			}
		}
	})
}
