package snappy

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

// decodeBlock is the test's oracle: a plain snappy block decoder.
func decodeBlock(src []byte) ([]byte, error) {
	n, k := binary.Uvarint(src)
	if k <= 0 {
		return nil, errors.New("bad length")
	}
	src = src[k:]
	out := make([]byte, 0, n)
	for len(src) > 0 {
		tag := src[0]
		switch tag & 3 {
		case 0:
			l := int(tag >> 2)
			src = src[1:]
			switch l {
			case 60:
				l, src = int(src[0]), src[1:]
			case 61:
				l, src = int(src[0])|int(src[1])<<8, src[2:]
			}
			l++
			if l > len(src) {
				return nil, errors.New("short literal")
			}
			out, src = append(out, src[:l]...), src[l:]
		case 2:
			if len(src) < 3 {
				return nil, errors.New("short copy")
			}
			l, off := int(tag>>2)+1, int(src[1])|int(src[2])<<8
			src = src[3:]
			if off == 0 || off > len(out) {
				return nil, errors.New("bad offset")
			}
			for range l {
				out = append(out, out[len(out)-off])
			}
		default:
			return nil, errors.New("tag not written by this encoder")
		}
	}
	if uint64(len(out)) != n {
		return nil, errors.New("length mismatch")
	}
	return out, nil
}

// decodeStream decodes a framed stream with decodeBlock, checking CRCs.
func decodeStream(src []byte) ([]byte, error) {
	if !bytes.HasPrefix(src, streamID) {
		return nil, errors.New("no stream identifier")
	}
	src = src[len(streamID):]
	var out []byte
	for len(src) > 0 {
		if len(src) < 8 {
			return nil, errors.New("short chunk")
		}
		typ, size := src[0], int(src[1])|int(src[2])<<8|int(src[3])<<16
		if size < 4 || 4+size > len(src) {
			return nil, errors.New("bad chunk size")
		}
		crc := binary.LittleEndian.Uint32(src[4:])
		body := src[8 : 4+size]
		src = src[4+size:]
		var data []byte
		switch typ {
		case chunkCompressed:
			var err error
			if data, err = decodeBlock(body); err != nil {
				return nil, err
			}
		case chunkUncompressed:
			data = body
		default:
			return nil, errors.New("unknown chunk")
		}
		if len(data) > maxChunk || maskedCRC(data) != crc {
			return nil, errors.New("bad chunk")
		}
		out = append(out, data...)
	}
	return out, nil
}

func TestRoundTrip(t *testing.T) {
	big := bytes.Repeat([]byte(`{"type":"eg","kind":0,"cid":12,"name":"sub","sub":"orders.>"},`), 3000)
	for _, src := range [][]byte{
		nil, []byte("a"), []byte("abcdabcdabcdabcd"), bytes.Repeat([]byte{0}, 70000), big,
		[]byte(`{"server":{"name":"n"},"request":{"header":{"Nats-Trace-Dest":["tr"]}}}`),
	} {
		enc := AppendStream(nil, src)
		got, err := decodeStream(enc)
		if err != nil || !bytes.Equal(got, src) {
			t.Fatalf("round trip of %d bytes: %v", len(src), err)
		}
	}
	if enc := AppendStream(nil, big); len(enc) > len(big)/4 {
		t.Errorf("repetitive input compressed to %d of %d bytes", len(enc), len(big))
	}
}

// FuzzRoundTrip: whatever the input, the stream decodes to it.
func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte("hello hello hello"))
	f.Add(bytes.Repeat([]byte("ab"), 100))
	f.Fuzz(func(t *testing.T, src []byte) {
		got, err := decodeStream(AppendStream(nil, src))
		if err != nil || !bytes.Equal(got, src) {
			t.Fatalf("round trip: %v", err)
		}
	})
}
