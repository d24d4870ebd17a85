package packet

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"testing"
)

// connack, codesAck and pingPacket give the client-side decoders' results
// one value each, so every packet type decodes to one comparable value.
type connack struct {
	SessionPresent bool
	Code           byte
	Props          Properties
}

type codesAck struct {
	PacketID uint16
	Codes    []byte
	Props    Properties
}

type pingPacket struct{ Type byte }

// decodeAny decodes the body of a packet of any type.
func decodeAny(v, typ, flags byte, body []byte) (any, error) {
	if err := CheckFlags(typ, flags); err != nil {
		return nil, err
	}
	switch typ {
	case CONNECT:
		return DecodeConnect(body)
	case CONNACK:
		sp, code, props, err := DecodeConnack(v, body)
		return &connack{sp, code, props}, err
	case PUBLISH:
		p := &Publish{}
		return p, DecodePublish(v, flags, body, p)
	case PUBACK, PUBREC, PUBREL, PUBCOMP:
		a := &Ack{}
		return a, DecodeAck(v, typ, flags, body, a)
	case SUBSCRIBE:
		return DecodeSubscribe(v, flags, body)
	case SUBACK:
		pid, codes, props, err := DecodeSuback(v, body)
		return &codesAck{pid, codes, props}, err
	case UNSUBSCRIBE:
		return DecodeUnsubscribe(v, flags, body)
	case UNSUBACK:
		pid, codes, props, err := DecodeUnsuback(v, body)
		return &codesAck{pid, codes, props}, err
	case PINGREQ, PINGRESP:
		if len(body) != 0 {
			return nil, malformed("ping with a body")
		}
		return &pingPacket{typ}, nil
	case DISCONNECT:
		return DecodeDisconnect(v, flags, body)
	case AUTH:
		return DecodeAuth(flags, body)
	}
	return nil, malformed("unknown type")
}

// encodeAny appends x, a value decodeAny returns, as a packet of type typ.
func encodeAny(dst []byte, v, typ byte, x any) []byte {
	switch x := x.(type) {
	case *Connect:
		return AppendConnect(dst, x)
	case *connack:
		return AppendConnack(dst, v, x.SessionPresent, x.Code, &x.Props)
	case *Publish:
		return AppendPublish(dst, v, x)
	case *Ack:
		return AppendAck(dst, v, typ, x)
	case *Subscribe:
		return AppendSubscribe(dst, v, x)
	case *codesAck:
		if typ == SUBACK {
			return AppendSuback(dst, v, x.PacketID, x.Codes, &x.Props)
		}
		return AppendUnsuback(dst, v, x.PacketID, x.Codes, &x.Props)
	case *Unsubscribe:
		return AppendUnsubscribe(dst, v, x)
	case *pingPacket:
		if x.Type == PINGREQ {
			return AppendPingreq(dst)
		}
		return AppendPingresp(dst)
	case *Disconnect:
		return AppendDisconnect(dst, v, x)
	case *Auth:
		return AppendAuth(dst, x)
	}
	panic("encodeAny: unknown value")
}

// readAll reads every packet of data with a Reader on r.
func readAll(r io.Reader, bufSize, max int) (pkts [][]byte, err error) {
	pr := NewReader(r, bufSize)
	pr.SetMax(max)
	for {
		typ, flags, body, err := pr.Next()
		if err != nil {
			return pkts, err
		}
		pkts = append(pkts, append([]byte{typ<<4 | flags}, body...))
	}
}

// onePacket reads the single packet in pkt.
func onePacket(t testing.TB, pkt []byte) (typ, flags byte, body []byte) {
	t.Helper()
	r := NewReader(bytes.NewReader(pkt), 64)
	typ, flags, body, err := r.Next()
	if err != nil {
		t.Fatalf("Next(% x): %v", pkt, err)
	}
	if r.Buffered() {
		t.Fatalf("bytes left after the packet in % x", pkt)
	}
	if _, _, _, err := r.Next(); err != io.EOF {
		t.Fatalf("after the packet: %v, want io.EOF", err)
	}
	return typ, flags, body
}

// roundTrip checks the oracle of the decoders: a body that decodes
// re-encodes to a packet that decodes to the same value, and encoding that
// value again gives the same bytes.
func roundTrip(t testing.TB, v, typ, flags byte, body []byte) {
	x, err := decodeAny(v, typ, flags, body)
	if err != nil {
		var re *ReasonError
		if !errors.As(err, &re) {
			t.Fatalf("decode error %v is not a *ReasonError", err)
		}
		return
	}
	pkt := encodeAny(nil, v, typ, x)
	typ2, flags2, body2 := onePacket(t, pkt)
	if typ2 != typ {
		t.Fatalf("type %d re-encoded as %d", typ, typ2)
	}
	y, err := decodeAny(v, typ2, flags2, body2)
	if err != nil {
		t.Fatalf("re-encoded % x does not decode: %v (first % x)", pkt, err, body)
	}
	if !reflect.DeepEqual(x, y) {
		t.Fatalf("round trip differs:\n%+v\n%+v", x, y)
	}
	if pkt2 := encodeAny(nil, v, typ, y); !bytes.Equal(pkt, pkt2) {
		t.Fatalf("encoding not stable:\n% x\n% x", pkt, pkt2)
	}
}
