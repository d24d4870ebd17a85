package packet_test

import (
	"bytes"
	"errors"
	"fmt"

	"natsd.dev/mqtt/internal/packet"
)

// A server reads a client's packets with a Reader and decodes each by type.
func ExampleReader() {
	var in []byte
	in = packet.AppendConnect(in, &packet.Connect{Version: packet.V311, CleanStart: true, KeepAlive: 30, ClientID: "dev-1"})
	in = packet.AppendPublish(in, packet.V311, &packet.Publish{Topic: []byte("sensors/temp"), QoS: 1, PacketID: 1, Payload: []byte("21.5")})
	in = packet.AppendPingreq(in)

	r := packet.NewReader(bytes.NewReader(in), 4096)
	r.SetMax(1 << 20)
	var out []byte
	var version byte
	for {
		typ, flags, body, err := r.Next()
		if err != nil {
			break // io.EOF here
		}
		switch typ {
		case packet.CONNECT:
			c, err := packet.DecodeConnect(body)
			if err != nil {
				return
			}
			version = c.Version
			fmt.Printf("CONNECT %s keep alive %d\n", c.ClientID, c.KeepAlive)
			out = packet.AppendConnack(out, version, false, packet.ConnAccepted, nil)
		case packet.PUBLISH:
			var p packet.Publish
			if err := packet.DecodePublish(version, flags, body, &p); err != nil {
				return
			}
			fmt.Printf("PUBLISH %s %q QoS %d\n", p.Topic, p.Payload, p.QoS)
			out = packet.AppendAck(out, version, packet.PUBACK, &packet.Ack{PacketID: p.PacketID})
		case packet.PINGREQ:
			out = packet.AppendPingresp(out)
		}
		if !r.Buffered() {
			fmt.Printf("flush % x\n", out)
			out = out[:0]
		}
	}
	// Output:
	// CONNECT dev-1 keep alive 30
	// PUBLISH sensors/temp "21.5" QoS 1
	// flush 20 02 00 00 40 02 00 01 d0 00
}

// An MQTT 5 PUBLISH carries properties; encoders write those marked present.
func ExampleAppendPublish() {
	p := &packet.Publish{Topic: []byte("a/b"), Payload: []byte("hi")}
	p.Props.MessageExpiry = 60
	p.Props.Set(packet.PropMessageExpiry)
	p.Props.User = []packet.UserProp{{Key: "k", Value: "v"}}
	pkt := packet.AppendPublish(nil, packet.V5, p)
	fmt.Printf("% x\n", pkt)

	var got packet.Publish
	// The body follows the two-byte fixed header.
	if err := packet.DecodePublish(packet.V5, pkt[0]&0x0f, pkt[2:], &got); err != nil {
		fmt.Println(err)
	}
	fmt.Println(got.Props.Has(packet.PropMessageExpiry), got.Props.MessageExpiry, got.Props.User)
	// Output:
	// 30 14 00 03 61 2f 62 0c 02 00 00 00 3c 26 00 01 6b 00 01 76 68 69
	// true 60 [{k v}]
}

// A writer appends the header and copies the payload itself.
func ExampleAppendPublishHeader() {
	payload := []byte("21.5")
	buf := make([]byte, 0, packet.PublishHeaderLen(len("t"), 0, len(payload))+len(payload))
	buf = packet.AppendPublishHeader(buf, packet.V311, []byte("t"), 0, false, false, 0, nil, len(payload))
	buf = append(buf, payload...)
	fmt.Printf("% x\n", buf)
	// Output: 30 07 00 01 74 32 31 2e 35
}

// Decode errors carry the reason code to answer with.
func ExampleReasonError() {
	_, err := packet.DecodeConnect([]byte{0, 6, 'M', 'Q', 'I', 's', 'd', 'p', 3, 2, 0, 60, 0, 0})
	var re *packet.ReasonError
	if errors.As(err, &re) {
		fmt.Printf("code %#x: %v\n", re.Code, err)
	}
	var p packet.Publish
	err = packet.DecodePublish(packet.V5, 0, []byte{0, 3, 'a', '/', '#', 0}, &p)
	fmt.Println(errors.Is(err, packet.ErrProtocol), err)
	// Output:
	// code 0x1: packet: unsupported protocol version: protocol MQIsdp level 0x03
	// true packet: protocol error: wildcard in publish topic
}

func ExampleDecodeSubscribe() {
	pkt := packet.AppendSubscribe(nil, packet.V5, &packet.Subscribe{PacketID: 3, Filters: []packet.SubFilter{
		{Filter: "sensors/+/temp", QoS: 1, NoLocal: true},
		{Filter: "bad/#/filter", QoS: 0},
	}})
	s, err := packet.DecodeSubscribe(packet.V5, pkt[0]&0x0f, pkt[2:])
	if err != nil {
		fmt.Println(err)
		return
	}
	var codes []byte
	for _, f := range s.Filters {
		if packet.ValidTopicFilter(f.Filter) {
			codes = append(codes, f.QoS)
		} else {
			codes = append(codes, packet.TopicFilterInvalid)
		}
	}
	fmt.Printf("% x\n", packet.AppendSuback(nil, packet.V5, s.PacketID, codes, nil))
	// Output: 90 05 00 03 00 01 8f
}
