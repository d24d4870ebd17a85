package packet

// Publish is a PUBLISH packet. Decoding sets Topic and Payload to views of
// the body.
type Publish struct {
	Topic    []byte
	QoS      byte
	Retain   bool
	Dup      bool
	PacketID uint16 // QoS 1 and 2 only
	Props    Properties
	Payload  []byte
}

// DecodePublish parses the fixed header flags and the body of a PUBLISH of
// protocol level v into p. Topic and Payload alias body; Props is reset and
// filled (copies) in 5 only. Without properties it does not allocate.
//
// QoS 3 and DUP with QoS 0 are ErrMalformed, as are a topic that is not an
// MQTT string and a truncated body. Wildcards in the topic, packet id 0 at
// QoS 1 or 2, and an empty topic (allowed in 5 with a Topic Alias only) are
// ErrProtocol. A Subscription Identifier is accepted, as a client receives
// it; a server refuses it from a client itself.
func DecodePublish(v byte, flags byte, body []byte, p *Publish) error {
	p.QoS = flags >> 1 & 3
	p.Dup = flags&8 != 0
	p.Retain = flags&1 != 0
	p.PacketID = 0
	p.Props = Properties{}
	if p.QoS == 3 {
		return malformed("publish QoS 3")
	}
	if p.QoS == 0 && p.Dup {
		return malformed("publish DUP at QoS 0")
	}
	d := decoder{b: body}
	p.Topic = d.str()
	if p.QoS > 0 {
		p.PacketID = d.u16()
	}
	if v == V5 {
		d.props(publishProps, &p.Props)
	}
	if d.err != nil {
		return d.err
	}
	p.Payload = d.b
	switch {
	case p.QoS > 0 && p.PacketID == 0:
		return protocol("publish packet id 0")
	case hasWildcard(p.Topic):
		return protocol("wildcard in publish topic")
	case len(p.Topic) == 0 && !p.Props.Has(PropTopicAlias):
		return protocol("empty publish topic")
	}
	return nil
}

// AppendPublish appends p as a PUBLISH packet of protocol level v.
func AppendPublish(dst []byte, v byte, p *Publish) []byte {
	dst = AppendPublishHeader(dst, v, p.Topic, p.QoS, p.Retain, p.Dup, p.PacketID, &p.Props, len(p.Payload))
	return append(dst, p.Payload...)
}

// AppendPublishHeader appends a PUBLISH packet of protocol level v up to its
// payload of payloadLen bytes, which the caller appends next. The packet id
// is written at QoS 1 and 2 only; props (nil for none) in 5 only.
func AppendPublishHeader(dst []byte, v byte, topic []byte, qos byte, retain, dup bool, pid uint16, props *Properties, payloadLen int) []byte {
	hdr := PUBLISH<<4 | qos&3<<1
	if dup {
		hdr |= 8
	}
	if retain {
		hdr |= 1
	}
	rl := 2 + len(topic) + payloadLen
	if qos > 0 {
		rl += 2
	}
	pl := 0
	if v == V5 {
		pl = propsLen(props)
		rl += varintLen(pl) + pl
	}
	dst = appendVarint(append(dst, hdr), rl)
	dst = appendBin(dst, topic)
	if qos > 0 {
		dst = appendU16(dst, pid)
	}
	if v == V5 {
		dst = appendProps(dst, props)
	}
	return dst
}

// PublishHeaderLen is the length of a 3.1.1 PUBLISH header as written by
// AppendPublishHeader, computed without writing it. PublishHeaderLenV
// covers MQTT 5.
func PublishHeaderLen(topicLen, qos, payloadLen int) int {
	return PublishHeaderLenV(V311, topicLen, qos, payloadLen)
}

// PublishHeaderLenV is the length of a PUBLISH header of protocol level v
// without properties (nil props), computed without writing it.
func PublishHeaderLenV(v byte, topicLen, qos, payloadLen int) int {
	n := 2 + topicLen
	if qos > 0 {
		n += 2
	}
	if v == V5 {
		n++ // property length 0
	}
	return 1 + varintLen(n+payloadLen) + n
}
