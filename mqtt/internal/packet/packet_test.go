package packet

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
)

func user() []UserProp { return []UserProp{{"k", "v"}, {"k", "v2"}, {"", ""}} }

// withProps returns p with Present set for every non-zero field.
func withProps(p Properties) Properties {
	for id := PropPayloadFormat; id < byte(len(propType)); id++ {
		t := propType[id]
		switch {
		case t == tNone:
		case id == PropUser:
			if len(p.User) > 0 {
				p.Set(id)
			}
		case id == PropSubscriptionIDs:
			if len(p.SubscriptionIDs) > 0 {
				p.Set(id)
			}
		case t == tBool && p.byteProp(id) != 0, t == tU16 && p.u16Prop(id) != 0,
			t == tU32 && p.u32Prop(id) != 0, t == tStr && p.str(id) != "",
			t == tBin && p.bin(id) != nil:
			p.Set(id)
		}
	}
	return p
}

type sample struct {
	name string
	v    byte
	typ  byte
	x    any
}

// samples are valid packets of every type and both versions; they seed the
// fuzzers too.
func samples() []sample {
	will5 := &Will{Topic: "w/t", Payload: []byte("bye"), QoS: 1, Retain: true,
		Props: withProps(Properties{WillDelay: 5, PayloadFormat: 1, MessageExpiry: 60, ContentType: "text/plain",
			ResponseTopic: "r/t", CorrelationData: []byte{1, 2}, User: user()})}
	return []sample{
		{"connect3-min", V311, CONNECT, &Connect{ProtoName: "MQTT", Version: V311, CleanStart: true, KeepAlive: 60, ClientID: "c1"}},
		{"connect3-full", V311, CONNECT, &Connect{ProtoName: "MQTT", Version: V311, KeepAlive: 10, ClientID: "",
			Will: &Will{Topic: "a/b", Payload: []byte{}, QoS: 2}, HasUsername: true, Username: "u", HasPassword: true, Password: []byte("p")}},
		{"connect5-full", V5, CONNECT, &Connect{ProtoName: "MQTT", Version: V5, CleanStart: true, KeepAlive: 30, ClientID: "c5",
			Will: will5, HasPassword: true, Password: []byte{},
			Props: withProps(Properties{SessionExpiry: 3600, ReceiveMaximum: 10, MaximumPacketSize: 1 << 20, TopicAliasMaximum: 5,
				RequestProblemInfo: 1, RequestResponseInfo: 1, AuthMethod: "SCRAM", AuthData: []byte("x"), User: user()})}},
		{"connack3", V311, CONNACK, &connack{true, ConnAccepted, Properties{}}},
		{"connack3-refused", V311, CONNACK, &connack{false, ConnRefusedBadUserPass, Properties{}}},
		{"connack5", V5, CONNACK, &connack{false, Success, withProps(Properties{SessionExpiry: 10, AssignedClientID: "auto-1",
			ServerKeepAlive: 20, ReceiveMaximum: 100, TopicAliasMaximum: 10, MaximumQoS: 1, RetainAvailable: 1, MaximumPacketSize: 4096,
			WildcardSubAvailable: 1, SubIDAvailable: 1, SharedSubAvailable: 1, ReasonString: "ok", ResponseInfo: "ri",
			ServerReference: "other", AuthMethod: "m", AuthData: []byte{0}, User: user()})}},
		{"connack5-refused", V5, CONNACK, &connack{false, NotAuthorized, Properties{}}},
		{"publish3-qos0", V311, PUBLISH, &Publish{Topic: []byte("a/b"), Payload: []byte("hello")}},
		{"publish3-qos1", V311, PUBLISH, &Publish{Topic: []byte("a/b"), QoS: 1, Dup: true, Retain: true, PacketID: 7, Payload: []byte{}}},
		{"publish3-qos2", V311, PUBLISH, &Publish{Topic: []byte("x"), QoS: 2, PacketID: 65535, Payload: bytes.Repeat([]byte("p"), 300)}},
		{"publish5", V5, PUBLISH, &Publish{Topic: []byte("a/b"), QoS: 1, PacketID: 1, Payload: []byte("x"),
			Props: withProps(Properties{PayloadFormat: 1, MessageExpiry: 9, ContentType: "c", ResponseTopic: "r",
				CorrelationData: []byte("id"), SubscriptionIDs: []uint32{1, 268435455}, TopicAlias: 3, User: user()})}},
		{"publish5-alias", V5, PUBLISH, &Publish{Topic: []byte{}, Payload: []byte("x"), Props: withProps(Properties{TopicAlias: 3})}},
		{"puback3", V311, PUBACK, &Ack{PacketID: 1}},
		{"pubrec3", V311, PUBREC, &Ack{PacketID: 2}},
		{"pubrel3", V311, PUBREL, &Ack{PacketID: 3}},
		{"pubcomp3", V311, PUBCOMP, &Ack{PacketID: 4}},
		{"puback5", V5, PUBACK, &Ack{PacketID: 1, Reason: NoMatchingSubscribers}},
		{"pubrec5", V5, PUBREC, &Ack{PacketID: 2, Reason: QuotaExceeded, Props: withProps(Properties{ReasonString: "full", User: user()})}},
		{"pubrel5", V5, PUBREL, &Ack{PacketID: 3, Reason: PacketIDNotFound}},
		{"pubcomp5", V5, PUBCOMP, &Ack{PacketID: 4}},
		{"subscribe3", V311, SUBSCRIBE, &Subscribe{PacketID: 10, Filters: []SubFilter{{Filter: "a/+", QoS: 1}, {Filter: "#", QoS: 2}}}},
		{"subscribe5", V5, SUBSCRIBE, &Subscribe{PacketID: 11, Filters: []SubFilter{{Filter: "a/#", QoS: 2, NoLocal: true, RetainAsPublished: true, RetainHandling: 2}},
			Props: withProps(Properties{SubscriptionIDs: []uint32{42}, User: user()})}},
		{"suback3", V311, SUBACK, &codesAck{10, []byte{0, 1, 2, 0x80}, Properties{}}},
		{"suback5", V5, SUBACK, &codesAck{11, []byte{GrantedQoS2, TopicFilterInvalid, WildcardSubNotSupported}, withProps(Properties{ReasonString: "r"})}},
		{"unsubscribe3", V311, UNSUBSCRIBE, &Unsubscribe{PacketID: 12, Filters: []string{"a/+", "b"}}},
		{"unsubscribe5", V5, UNSUBSCRIBE, &Unsubscribe{PacketID: 13, Filters: []string{"a/#"}, Props: withProps(Properties{User: user()})}},
		{"unsuback3", V311, UNSUBACK, &codesAck{12, nil, Properties{}}},
		{"unsuback5", V5, UNSUBACK, &codesAck{13, []byte{Success, NoSubscriptionExisted}, Properties{}}},
		{"pingreq", V311, PINGREQ, &pingPacket{PINGREQ}},
		{"pingresp", V5, PINGRESP, &pingPacket{PINGRESP}},
		{"disconnect3", V311, DISCONNECT, &Disconnect{}},
		{"disconnect5", V5, DISCONNECT, &Disconnect{}},
		{"disconnect5-will", V5, DISCONNECT, &Disconnect{Reason: DisconnectWithWill}},
		{"disconnect5-props", V5, DISCONNECT, &Disconnect{Reason: ServerMoved, Props: withProps(Properties{SessionExpiry: 1, ServerReference: "s2", ReasonString: "bye", User: user()})}},
		{"auth5", V5, AUTH, &Auth{}},
		{"auth5-continue", V5, AUTH, &Auth{Reason: ContinueAuth, Props: withProps(Properties{AuthMethod: "SCRAM", AuthData: []byte("abc"), ReasonString: "r"})}},
	}
}

func TestRoundTrip(t *testing.T) {
	for _, s := range samples() {
		t.Run(s.name, func(t *testing.T) {
			pkt := encodeAny(nil, s.v, s.typ, s.x)
			typ, flags, body := onePacket(t, pkt)
			if typ != s.typ {
				t.Fatalf("type %d, want %d", typ, s.typ)
			}
			got, err := decodeAny(s.v, typ, flags, body)
			if err != nil {
				t.Fatalf("decode % x: %v", pkt, err)
			}
			if !reflect.DeepEqual(got, s.x) {
				t.Fatalf("decoded\n%+v\nwant\n%+v", got, s.x)
			}
			roundTrip(t, s.v, typ, flags, body)
		})
	}
}

// TestWire checks encodings against bytes laid out by hand from the
// specifications.
func TestWire(t *testing.T) {
	tests := []struct {
		name string
		got  []byte
		want []byte
	}{
		{"connect3", AppendConnect(nil, &Connect{Version: V311, CleanStart: true, KeepAlive: 60, ClientID: "c"}),
			[]byte{0x10, 13, 0, 4, 'M', 'Q', 'T', 'T', 4, 0x02, 0, 60, 0, 1, 'c'}},
		{"connect5-user-pass", AppendConnect(nil, &Connect{Version: V5, ClientID: "", HasUsername: true, Username: "u", HasPassword: true, Password: []byte("p")}),
			[]byte{0x10, 19, 0, 4, 'M', 'Q', 'T', 'T', 5, 0xc0, 0, 0, 0, 0, 0, 0, 1, 'u', 0, 1, 'p'}},
		{"connack3", AppendConnack(nil, V311, true, 0, nil), []byte{0x20, 2, 1, 0}},
		{"connack5", AppendConnack(nil, V5, false, NotAuthorized, nil), []byte{0x20, 3, 0, 0x87, 0}},
		{"connack5-props", AppendConnack(nil, V5, false, 0, &Properties{Present: 1 << PropReceiveMaximum, ReceiveMaximum: 0x102}),
			[]byte{0x20, 6, 0, 0, 3, 0x21, 1, 2}},
		{"publish3-qos0", AppendPublish(nil, V311, &Publish{Topic: []byte("a/b"), Payload: []byte("hi")}),
			[]byte{0x30, 7, 0, 3, 'a', '/', 'b', 'h', 'i'}},
		{"publish3-qos1-dup-retain", AppendPublish(nil, V311, &Publish{Topic: []byte("t"), QoS: 1, Dup: true, Retain: true, PacketID: 0x0102}),
			[]byte{0x3b, 5, 0, 1, 't', 1, 2}},
		{"publish5-qos2", AppendPublish(nil, V5, &Publish{Topic: []byte("t"), QoS: 2, PacketID: 1, Payload: []byte("x")}),
			[]byte{0x34, 7, 0, 1, 't', 0, 1, 0, 'x'}},
		{"publish5-subids", AppendPublish(nil, V5, &Publish{Topic: []byte("t"), Props: Properties{SubscriptionIDs: []uint32{1, 200}}}),
			[]byte{0x30, 9, 0, 1, 't', 5, 0x0b, 1, 0x0b, 0xc8, 1}},
		{"puback3", AppendAck(nil, V311, PUBACK, &Ack{PacketID: 5}), []byte{0x40, 2, 0, 5}},
		{"puback3-reason-ignored", AppendAck(nil, V311, PUBACK, &Ack{PacketID: 5, Reason: 0x80}), []byte{0x40, 2, 0, 5}},
		{"pubrel5-success", AppendAck(nil, V5, PUBREL, &Ack{PacketID: 5}), []byte{0x62, 2, 0, 5}},
		{"pubrec5-reason", AppendAck(nil, V5, PUBREC, &Ack{PacketID: 5, Reason: NoMatchingSubscribers}), []byte{0x50, 3, 0, 5, 0x10}},
		{"pubcomp5-props", AppendAck(nil, V5, PUBCOMP, &Ack{PacketID: 5, Props: Properties{Present: 1 << PropReasonString, ReasonString: "r"}}),
			[]byte{0x70, 8, 0, 5, 0, 4, 0x1f, 0, 1, 'r'}},
		{"subscribe3", AppendSubscribe(nil, V311, &Subscribe{PacketID: 1, Filters: []SubFilter{{Filter: "a", QoS: 1, NoLocal: true}}}),
			[]byte{0x82, 6, 0, 1, 0, 1, 'a', 1}},
		{"subscribe5", AppendSubscribe(nil, V5, &Subscribe{PacketID: 1, Filters: []SubFilter{{Filter: "a", QoS: 1, NoLocal: true, RetainAsPublished: true, RetainHandling: 2}}}),
			[]byte{0x82, 7, 0, 1, 0, 0, 1, 'a', 0x2d}},
		{"suback3", AppendSuback(nil, V311, 1, []byte{0, 0x80}, nil), []byte{0x90, 4, 0, 1, 0, 0x80}},
		{"suback5", AppendSuback(nil, V5, 1, []byte{2}, nil), []byte{0x90, 4, 0, 1, 0, 2}},
		{"unsubscribe3", AppendUnsubscribe(nil, V311, &Unsubscribe{PacketID: 2, Filters: []string{"a"}}), []byte{0xa2, 5, 0, 2, 0, 1, 'a'}},
		{"unsuback3", AppendUnsuback(nil, V311, 2, []byte{0}, nil), []byte{0xb0, 2, 0, 2}},
		{"unsuback5", AppendUnsuback(nil, V5, 2, []byte{0x11}, nil), []byte{0xb0, 4, 0, 2, 0, 0x11}},
		{"pingreq", AppendPingreq(nil), []byte{0xc0, 0}},
		{"pingresp", AppendPingresp(nil), []byte{0xd0, 0}},
		{"disconnect3", AppendDisconnect(nil, V311, &Disconnect{Reason: 4}), []byte{0xe0, 0}},
		{"disconnect5", AppendDisconnect(nil, V5, &Disconnect{}), []byte{0xe0, 0}},
		{"disconnect5-reason", AppendDisconnect(nil, V5, &Disconnect{Reason: SessionTakenOver}), []byte{0xe0, 1, 0x8e}},
		{"auth5", AppendAuth(nil, &Auth{Reason: ContinueAuth, Props: Properties{Present: 1 << PropAuthMethod, AuthMethod: "m"}}),
			[]byte{0xf0, 6, 0x18, 4, 0x15, 0, 1, 'm'}},
		{"remaining-length-2-bytes", AppendPublishHeader(nil, V311, []byte("t"), 0, false, false, 0, nil, 200),
			[]byte{0x30, 0xcb, 0x01, 0, 1, 't'}},
		{"append-keeps-dst", AppendPingreq([]byte("xy")), []byte{'x', 'y', 0xc0, 0}},
		{"frame-keeps-dst", AppendSuback([]byte("xy"), V311, 1, []byte{0}, nil), []byte{'x', 'y', 0x90, 3, 0, 1, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !bytes.Equal(tt.got, tt.want) {
				t.Fatalf("got  % x\nwant % x", tt.got, tt.want)
			}
		})
	}
}

func TestPublishHeaderLen(t *testing.T) {
	for _, topicLen := range []int{0, 1, 100, 65535} {
		for _, qos := range []int{0, 1, 2} {
			for _, payloadLen := range []int{0, 1, 120, 127, 128, 16380, 16384, 2097151, 2097152} {
				topic := make([]byte, topicLen)
				for _, v := range []byte{V311, V5} {
					got := PublishHeaderLenV(v, topicLen, qos, payloadLen)
					want := len(AppendPublishHeader(nil, v, topic, byte(qos), false, false, 1, nil, payloadLen))
					if got != want {
						t.Fatalf("v%d topic %d qos %d payload %d: %d, want %d", v, topicLen, qos, payloadLen, got, want)
					}
				}
				if PublishHeaderLen(topicLen, qos, payloadLen) != PublishHeaderLenV(V311, topicLen, qos, payloadLen) {
					t.Fatal("PublishHeaderLen differs from PublishHeaderLenV(V311)")
				}
			}
		}
	}
}

// pkt builds a packet of the first byte hdr around body.
func pkt(hdr byte, body ...byte) []byte { return frame(append([]byte{}, body...), 0, hdr) }

// connect3 and connect5 are CONNECT bodies up to the protocol level.
var connect3 = []byte{0, 4, 'M', 'Q', 'T', 'T', 4}
var connect5 = []byte{0, 4, 'M', 'Q', 'T', 'T', 5}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name  string
		v     byte
		typ   byte
		flags byte
		body  []byte
		want  error
	}{
		// CONNECT
		{"connect-proto-level-3", V311, CONNECT, 0, []byte{0, 6, 'M', 'Q', 'I', 's', 'd', 'p', 3, 2, 0, 0, 0, 0}, ErrUnsupportedVersion},
		{"connect-level-6", V311, CONNECT, 0, []byte{0, 4, 'M', 'Q', 'T', 'T', 6, 2, 0, 0, 0, 0}, ErrUnsupportedVersion},
		{"connect-wrong-name", V311, CONNECT, 0, []byte{0, 4, 'M', 'Q', 'T', 't', 4, 2, 0, 0, 0, 0}, ErrUnsupportedVersion},
		{"connect-reserved-flag", V311, CONNECT, 0, cat(connect3, []byte{3, 0, 0, 0, 0}), ErrMalformed},
		{"connect-will-qos3", V311, CONNECT, 0, cat(connect3, []byte{0x1c, 0, 0, 0, 0, 0, 1, 't', 0, 0}), ErrMalformed},
		{"connect-will-qos-without-will", V311, CONNECT, 0, cat(connect3, []byte{0x08, 0, 0, 0, 0}), ErrMalformed},
		{"connect-will-retain-without-will", V311, CONNECT, 0, cat(connect3, []byte{0x20, 0, 0, 0, 0}), ErrMalformed},
		{"connect3-password-without-user", V311, CONNECT, 0, cat(connect3, []byte{0x40, 0, 0, 0, 0, 0, 1, 'p'}), ErrMalformed},
		{"connect-will-topic-wildcard", V311, CONNECT, 0, cat(connect3, []byte{0x04, 0, 0, 0, 0, 0, 1, '#', 0, 0}), ErrProtocol},
		{"connect-will-topic-empty", V311, CONNECT, 0, cat(connect3, []byte{0x04, 0, 0, 0, 0, 0, 0, 0, 0}), ErrProtocol},
		{"connect-trailing", V311, CONNECT, 0, cat(connect3, []byte{0, 0, 0, 0, 0, 9}), ErrMalformed},
		{"connect-short", V311, CONNECT, 0, cat(connect3, []byte{0, 0, 0, 0}), ErrMalformed},
		{"connect-user-missing", V311, CONNECT, 0, cat(connect3, []byte{0x80, 0, 0, 0, 0}), ErrMalformed},
		{"connect-client-id-nul", V311, CONNECT, 0, cat(connect3, []byte{0, 0, 0, 0, 1, 0}), ErrMalformed},
		{"connect-client-id-bad-utf8", V311, CONNECT, 0, cat(connect3, []byte{0, 0, 0, 0, 1, 0xff}), ErrMalformed},
		{"connect-client-id-surrogate", V311, CONNECT, 0, cat(connect3, []byte{0, 0, 0, 0, 3, 0xed, 0xa0, 0x80}), ErrMalformed},
		{"connect5-props-not-allowed", V5, CONNECT, 0, cat(connect5, []byte{0, 0, 0, 2, 0x23, 0, 1, 0, 0}), ErrProtocol},
		{"connect5-unknown-prop", V5, CONNECT, 0, cat(connect5, []byte{0, 0, 0, 2, 0x04, 0, 0, 0}), ErrMalformed},
		{"connect5-dup-prop", V5, CONNECT, 0, cat(connect5, []byte{0, 0, 0, 10, 0x11, 0, 0, 0, 1, 0x11, 0, 0, 0, 2, 0, 0}), ErrProtocol},
		{"connect5-receive-max-0", V5, CONNECT, 0, cat(connect5, []byte{0, 0, 0, 3, 0x21, 0, 0, 0, 0}), ErrProtocol},
		{"connect5-max-packet-0", V5, CONNECT, 0, cat(connect5, []byte{0, 0, 0, 5, 0x27, 0, 0, 0, 0, 0, 0}), ErrProtocol},
		{"connect5-request-problem-2", V5, CONNECT, 0, cat(connect5, []byte{0, 0, 0, 2, 0x17, 2, 0, 0}), ErrProtocol},
		{"connect5-auth-data-no-method", V5, CONNECT, 0, cat(connect5, []byte{0, 0, 0, 4, 0x16, 0, 1, 'x', 0, 0}), ErrProtocol},
		{"connect5-props-past-end", V5, CONNECT, 0, cat(connect5, []byte{0, 0, 0, 9, 0x11, 0}), ErrMalformed},
		{"connect5-user-prop-bad-utf8", V5, CONNECT, 0, cat(connect5, []byte{0, 0, 0, 7, 0x26, 0, 1, 0xc0, 0, 1, 'v', 0, 0}), ErrMalformed},
		{"connect5-will-prop-not-allowed", V5, CONNECT, 0, cat(connect5, []byte{0x04, 0, 0, 0, 0, 0, 5, 0x11, 0, 0, 0, 1, 0, 1, 't', 0, 0}), ErrProtocol},
		// CONNACK (client side)
		{"connack-reserved-flags", V311, CONNACK, 0, []byte{2, 0}, ErrMalformed},
		{"connack3-code-6", V311, CONNACK, 0, []byte{0, 6}, ErrProtocol},
		{"connack-session-present-refused", V311, CONNACK, 0, []byte{1, 5}, ErrProtocol},
		{"connack5-code", V5, CONNACK, 0, []byte{0, 0x8d, 0}, ErrProtocol},
		{"connack5-max-qos-2", V5, CONNACK, 0, []byte{0, 0, 2, 0x24, 2}, ErrProtocol},
		{"connack-flags", V311, CONNACK, 1, []byte{0, 0}, ErrMalformed},
		// PUBLISH
		{"publish-qos3", V311, PUBLISH, 6, []byte{0, 1, 't', 0, 1}, ErrMalformed},
		{"publish-dup-qos0", V311, PUBLISH, 8, []byte{0, 1, 't'}, ErrMalformed},
		{"publish-pid-0", V311, PUBLISH, 2, []byte{0, 1, 't', 0, 0}, ErrProtocol},
		{"publish-wildcard-plus", V311, PUBLISH, 0, []byte{0, 3, 'a', '/', '+'}, ErrProtocol},
		{"publish-wildcard-hash", V5, PUBLISH, 0, []byte{0, 1, '#', 0}, ErrProtocol},
		{"publish3-empty-topic", V311, PUBLISH, 0, []byte{0, 0, 'x'}, ErrProtocol},
		{"publish5-empty-topic-no-alias", V5, PUBLISH, 0, []byte{0, 0, 0, 'x'}, ErrProtocol},
		{"publish5-alias-0", V5, PUBLISH, 0, []byte{0, 1, 't', 3, 0x23, 0, 0}, ErrProtocol},
		{"publish5-prop-not-allowed", V5, PUBLISH, 0, []byte{0, 1, 't', 5, 0x11, 0, 0, 0, 1}, ErrProtocol},
		{"publish5-dup-alias", V5, PUBLISH, 0, []byte{0, 1, 't', 6, 0x23, 0, 1, 0x23, 0, 1}, ErrProtocol},
		{"publish5-subid-0", V5, PUBLISH, 0, []byte{0, 1, 't', 2, 0x0b, 0}, ErrProtocol},
		{"publish5-payload-format-2", V5, PUBLISH, 0, []byte{0, 1, 't', 2, 0x01, 2}, ErrProtocol},
		{"publish-topic-nul", V311, PUBLISH, 0, []byte{0, 2, 'a', 0}, ErrMalformed},
		{"publish-topic-too-short", V311, PUBLISH, 0, []byte{0, 5, 'a'}, ErrMalformed},
		{"publish-no-pid", V311, PUBLISH, 2, []byte{0, 1, 't', 0}, ErrMalformed},
		{"publish5-props-varint-5-bytes", V5, PUBLISH, 0, []byte{0, 1, 't', 0x80, 0x80, 0x80, 0x80, 0x01}, ErrMalformed},
		// acks
		{"puback-flags", V311, PUBACK, 2, []byte{0, 1}, ErrMalformed},
		{"pubrel-flags-0", V311, PUBREL, 0, []byte{0, 1}, ErrMalformed},
		{"pubrec-flags", V5, PUBREC, 1, []byte{0, 1}, ErrMalformed},
		{"pubcomp-flags", V5, PUBCOMP, 2, []byte{0, 1}, ErrMalformed},
		{"puback3-long", V311, PUBACK, 0, []byte{0, 1, 0}, ErrMalformed},
		{"puback-short", V5, PUBACK, 0, []byte{0}, ErrMalformed},
		{"puback-pid-0", V311, PUBACK, 0, []byte{0, 0}, ErrProtocol},
		{"puback5-bad-reason", V5, PUBACK, 0, []byte{0, 1, 0x92}, ErrProtocol},
		{"pubrel5-bad-reason", V5, PUBREL, 2, []byte{0, 1, 0x10}, ErrProtocol},
		{"puback5-prop-not-allowed", V5, PUBACK, 0, []byte{0, 1, 0, 2, 0x01, 1}, ErrProtocol},
		// SUBSCRIBE
		{"subscribe-flags-0", V311, SUBSCRIBE, 0, []byte{0, 1, 0, 1, 'a', 0}, ErrMalformed},
		{"subscribe-flags-3", V5, SUBSCRIBE, 3, []byte{0, 1, 0, 0, 1, 'a', 0}, ErrMalformed},
		{"subscribe-no-filters", V311, SUBSCRIBE, 2, []byte{0, 1}, ErrProtocol},
		{"subscribe5-no-filters", V5, SUBSCRIBE, 2, []byte{0, 1, 0}, ErrProtocol},
		{"subscribe-pid-0", V311, SUBSCRIBE, 2, []byte{0, 0, 0, 1, 'a', 0}, ErrProtocol},
		{"subscribe3-options-4", V311, SUBSCRIBE, 2, []byte{0, 1, 0, 1, 'a', 4}, ErrMalformed},
		{"subscribe-qos3", V311, SUBSCRIBE, 2, []byte{0, 1, 0, 1, 'a', 3}, ErrMalformed},
		{"subscribe5-reserved-bits", V5, SUBSCRIBE, 2, []byte{0, 1, 0, 0, 1, 'a', 0x40}, ErrMalformed},
		{"subscribe5-retain-handling-3", V5, SUBSCRIBE, 2, []byte{0, 1, 0, 0, 1, 'a', 0x30}, ErrProtocol},
		{"subscribe5-two-subids", V5, SUBSCRIBE, 2, []byte{0, 1, 4, 0x0b, 1, 0x0b, 2, 0, 1, 'a', 0}, ErrProtocol},
		{"subscribe-no-options", V311, SUBSCRIBE, 2, []byte{0, 1, 0, 1, 'a'}, ErrMalformed},
		// UNSUBSCRIBE
		{"unsubscribe-flags", V311, UNSUBSCRIBE, 0, []byte{0, 1, 0, 1, 'a'}, ErrMalformed},
		{"unsubscribe-no-filters", V311, UNSUBSCRIBE, 2, []byte{0, 1}, ErrProtocol},
		{"unsubscribe-pid-0", V5, UNSUBSCRIBE, 2, []byte{0, 0, 0, 0, 1, 'a'}, ErrProtocol},
		{"unsubscribe5-subid-not-allowed", V5, UNSUBSCRIBE, 2, []byte{0, 1, 2, 0x0b, 1, 0, 1, 'a'}, ErrProtocol},
		// SUBACK, UNSUBACK
		{"suback3-code-0x87", V311, SUBACK, 0, []byte{0, 1, 0x87}, ErrProtocol},
		{"suback-no-codes", V311, SUBACK, 0, []byte{0, 1}, ErrProtocol},
		{"unsuback3-long", V311, UNSUBACK, 0, []byte{0, 1, 0}, ErrMalformed},
		{"unsuback5-bad-code", V5, UNSUBACK, 0, []byte{0, 1, 0, 0x10}, ErrProtocol},
		// DISCONNECT, AUTH, PING
		{"disconnect3-body", V311, DISCONNECT, 0, []byte{0}, ErrMalformed},
		{"disconnect-flags", V5, DISCONNECT, 1, nil, ErrMalformed},
		{"disconnect5-bad-reason", V5, DISCONNECT, 0, []byte{0x01}, ErrProtocol},
		{"disconnect5-prop-not-allowed", V5, DISCONNECT, 0, []byte{0, 2, 0x24, 1}, ErrProtocol},
		{"auth-bad-reason", V5, AUTH, 0, []byte{0x80}, ErrProtocol},
		{"auth-flags", V5, AUTH, 1, nil, ErrMalformed},
		{"pingreq-flags", V311, PINGREQ, 1, nil, ErrMalformed},
		{"reserved-type-0", V311, 0, 0, nil, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decodeAny(tt.v, tt.typ, tt.flags, tt.body)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			var re *ReasonError
			if !errors.As(err, &re) {
				t.Fatalf("err %T is not a *ReasonError", err)
			}
		})
	}
}

func TestReasonError(t *testing.T) {
	_, err := DecodeConnect([]byte{0, 4, 'M', 'Q', 'T', 'T', 5 + 1})
	var re *ReasonError
	if !errors.As(err, &re) || re.Code != ConnRefusedProtocol {
		t.Fatalf("unsupported level: %v, want Code 0x01", err)
	}
	err = DecodePublish(V5, 6, nil, &Publish{})
	if !errors.As(err, &re) || re.Code != MalformedPacket || errors.Is(err, ErrProtocol) {
		t.Fatalf("QoS 3: %v, want Code 0x81 only", err)
	}
	if got := err.Error(); got != "packet: malformed packet: publish QoS 3" {
		t.Fatalf("Error() = %q", got)
	}
}

// TestDecodeCopies checks that decoders other than DecodePublish keep
// nothing of the body.
func TestDecodeCopies(t *testing.T) {
	for _, s := range samples() {
		if s.typ == PUBLISH {
			continue
		}
		pkt := encodeAny(nil, s.v, s.typ, s.x)
		typ, flags, body := onePacket(t, pkt)
		got, err := decodeAny(s.v, typ, flags, body)
		if err != nil {
			t.Fatal(err)
		}
		for i := range body {
			body[i] = 0xee
		}
		if !reflect.DeepEqual(got, s.x) {
			t.Fatalf("%s: decoded value changed with the body:\n%+v", s.name, got)
		}
	}
}

func TestValidTopic(t *testing.T) {
	names := map[string]bool{
		"a": true, "a/b": true, "/": true, "//": true, "a//b": true, "$SYS/x": true, "é/ü": true, "a.b": true, "a*b": true,
		"": false, "a/+": false, "#": false, "a+b": false, "a b": false, "a\tb": false, "a\nb": false, "a\rb": false,
		"a\x00b": false, "a\x1fb": false, "a\x7fb": false, "\xff": false, "\xed\xa0\x80": false,
	}
	for n, want := range names {
		if got := ValidTopicName([]byte(n)); got != want {
			t.Errorf("ValidTopicName(%q) = %v, want %v", n, got, want)
		}
	}
	filters := map[string]bool{
		"a": true, "#": true, "+": true, "a/#": true, "a/+/b": true, "+/+": true, "/#": true, "+/": true, "a//b": true, "$share/g/a/#": true,
		"": false, "a#": false, "a/#/b": false, "#/": false, "a+": false, "+a/b": false, "a/b+": false, "##": false, "a b": false,
		"a\tb": false, "a\x00": false, "a\x7f": false, "\xff": false,
	}
	for f, want := range filters {
		if got := ValidTopicFilter(f); got != want {
			t.Errorf("ValidTopicFilter(%q) = %v, want %v", f, got, want)
		}
	}
	if ValidTopicName(bytes.Repeat([]byte("a"), 65536)) || ValidTopicFilter(string(bytes.Repeat([]byte("a"), 65536))) {
		t.Error("topic longer than 65535 bytes accepted")
	}
}

func TestTypeName(t *testing.T) {
	if TypeName(PUBLISH) != "PUBLISH" || TypeName(AUTH) != "AUTH" || TypeName(0) != "RESERVED" {
		t.Fatal(TypeName(PUBLISH), TypeName(AUTH), TypeName(0))
	}
}
