package packet

// Ack is a PUBACK, PUBREC, PUBREL or PUBCOMP packet.
type Ack struct {
	PacketID uint16
	Reason   byte       // MQTT 5
	Props    Properties // MQTT 5
}

// DecodeAck parses a PUBACK, PUBREC, PUBREL or PUBCOMP (typ) of protocol
// level v into a. In 3.1.1 the body is the packet id alone; in 5 the reason
// code and properties may follow, each optional when it is the last field.
// Flags other than CheckFlags allows and a wrong length are ErrMalformed;
// packet id 0 and a reason code the packet type does not have ErrProtocol.
func DecodeAck(v byte, typ, flags byte, body []byte, a *Ack) error {
	if typ < PUBACK || typ > PUBCOMP {
		return malformed("not an acknowledgement")
	}
	if err := CheckFlags(typ, flags); err != nil {
		return err
	}
	*a = Ack{}
	d := decoder{b: body}
	a.PacketID = d.u16()
	if v == V5 && len(d.b) > 0 {
		a.Reason = d.u8()
		if len(d.b) > 0 {
			d.props(ackProps, &a.Props)
		}
	}
	codes := pubackCodes
	if typ == PUBREL || typ == PUBCOMP {
		codes = pubrelCodes
	}
	switch {
	case d.err != nil:
		return d.err
	case len(d.b) != 0:
		return malformed("bytes after the acknowledgement")
	case a.PacketID == 0:
		return protocol("packet id 0")
	case !validCode(codes, a.Reason):
		return protocol("invalid reason code " + hex(a.Reason))
	}
	return nil
}

// AppendAck appends a as a PUBACK, PUBREC, PUBREL or PUBCOMP (typ) of
// protocol level v. In 5 the reason code is left out when it is Success and
// there are no properties, as the specification recommends.
func AppendAck(dst []byte, v byte, typ byte, a *Ack) []byte {
	hdr := typ<<4 | fixedFlags[typ&0x0f]
	if v != V5 || a.Reason == Success && propsLen(&a.Props) == 0 {
		return appendU16(append(dst, hdr, 2), a.PacketID)
	}
	pl := propsLen(&a.Props)
	if pl == 0 {
		return append(appendU16(append(dst, hdr, 3), a.PacketID), a.Reason)
	}
	rl := 3 + varintLen(pl) + pl
	dst = appendU16(appendVarint(append(dst, hdr), rl), a.PacketID)
	return appendProps(append(dst, a.Reason), &a.Props)
}

// SubFilter is one topic filter of a SUBSCRIBE with its options.
type SubFilter struct {
	Filter            string
	QoS               byte
	NoLocal           bool // MQTT 5
	RetainAsPublished bool // MQTT 5
	RetainHandling    byte // MQTT 5: 0, 1 or 2
}

// Subscribe is a SUBSCRIBE packet.
type Subscribe struct {
	PacketID uint16
	Filters  []SubFilter
	Props    Properties // MQTT 5
}

// DecodeSubscribe parses a SUBSCRIBE of protocol level v. The filters are
// copied but not validated (see ValidTopicFilter): a server answers an
// invalid one in its SUBACK. Flags other than 0b0010, reserved option bits
// (in 3.1.1 options above 2), QoS 3 and a truncated body are ErrMalformed;
// packet id 0, no filters, Retain Handling 3 and more than one Subscription
// Identifier are ErrProtocol.
func DecodeSubscribe(v byte, flags byte, body []byte) (*Subscribe, error) {
	if err := CheckFlags(SUBSCRIBE, flags); err != nil {
		return nil, err
	}
	s := &Subscribe{}
	d := decoder{b: body}
	s.PacketID = d.u16()
	if v == V5 {
		d.props(subProps, &s.Props)
	}
	for len(d.b) > 0 && d.err == nil {
		f := SubFilter{Filter: string(d.str())}
		o := d.u8()
		if d.err != nil {
			break
		}
		f.QoS = o & 3
		if v == V5 {
			f.NoLocal = o&4 != 0
			f.RetainAsPublished = o&8 != 0
			f.RetainHandling = o >> 4 & 3
		}
		switch {
		case v == V5 && o&0xc0 != 0 || v != V5 && o&^3 != 0:
			return nil, malformed("reserved subscription option bits set")
		case f.QoS == 3:
			return nil, malformed("subscription QoS 3")
		case f.RetainHandling == 3:
			return nil, protocol("retain handling 3")
		}
		s.Filters = append(s.Filters, f)
	}
	switch {
	case d.err != nil:
		return nil, d.err
	case s.PacketID == 0:
		return nil, protocol("packet id 0")
	case len(s.Filters) == 0:
		return nil, protocol("subscribe without filters")
	case len(s.Props.SubscriptionIDs) > 1:
		return nil, protocol("more than one subscription identifier")
	}
	return s, nil
}

// AppendSubscribe appends s as a SUBSCRIBE of protocol level v.
func AppendSubscribe(dst []byte, v byte, s *Subscribe) []byte {
	start := len(dst)
	dst = appendU16(dst, s.PacketID)
	if v == V5 {
		dst = appendProps(dst, &s.Props)
	}
	for _, f := range s.Filters {
		o := f.QoS
		if v == V5 {
			o |= f.RetainHandling << 4
			if f.NoLocal {
				o |= 4
			}
			if f.RetainAsPublished {
				o |= 8
			}
		}
		dst = append(appendBin(dst, f.Filter), o)
	}
	return frame(dst, start, SUBSCRIBE<<4|2)
}

// AppendSuback appends a SUBACK of protocol level v with one return or
// reason code per filter; props (nil for none) are written in 5 only.
func AppendSuback(dst []byte, v byte, pid uint16, codes []byte, props *Properties) []byte {
	return appendCodesAck(dst, SUBACK<<4, v, pid, codes, props)
}

func appendCodesAck(dst []byte, hdr, v byte, pid uint16, codes []byte, props *Properties) []byte {
	start := len(dst)
	dst = appendU16(dst, pid)
	if v == V5 {
		dst = appendProps(dst, props)
	}
	return frame(append(dst, codes...), start, hdr)
}

// DecodeSuback parses a SUBACK of protocol level v: the client side.
func DecodeSuback(v byte, body []byte) (pid uint16, codes []byte, props Properties, err error) {
	set := subackCodes3
	if v == V5 {
		set = subackCodes5
	}
	return decodeCodesAck(v, body, set)
}

func decodeCodesAck(v byte, body []byte, set string) (pid uint16, codes []byte, props Properties, err error) {
	d := decoder{b: body}
	pid = d.u16()
	if v == V5 {
		d.props(ackProps, &props)
	}
	switch {
	case d.err != nil:
		return 0, nil, Properties{}, d.err
	case pid == 0:
		return 0, nil, Properties{}, protocol("packet id 0")
	case len(d.b) == 0:
		return 0, nil, Properties{}, protocol("no reason codes")
	}
	for _, c := range d.b {
		if !validCode(set, c) {
			return 0, nil, Properties{}, protocol("invalid reason code " + hex(c))
		}
	}
	return pid, append([]byte{}, d.b...), props, nil
}

// Unsubscribe is an UNSUBSCRIBE packet.
type Unsubscribe struct {
	PacketID uint16
	Filters  []string
	Props    Properties // MQTT 5
}

// DecodeUnsubscribe parses an UNSUBSCRIBE of protocol level v. Flags other
// than 0b0010 and a truncated body are ErrMalformed; packet id 0 and no
// filters ErrProtocol. The filters are copied but not validated.
func DecodeUnsubscribe(v byte, flags byte, body []byte) (*Unsubscribe, error) {
	if err := CheckFlags(UNSUBSCRIBE, flags); err != nil {
		return nil, err
	}
	u := &Unsubscribe{}
	d := decoder{b: body}
	u.PacketID = d.u16()
	if v == V5 {
		d.props(unsubProps, &u.Props)
	}
	for len(d.b) > 0 && d.err == nil {
		f := d.str()
		if d.err == nil {
			u.Filters = append(u.Filters, string(f))
		}
	}
	switch {
	case d.err != nil:
		return nil, d.err
	case u.PacketID == 0:
		return nil, protocol("packet id 0")
	case len(u.Filters) == 0:
		return nil, protocol("unsubscribe without filters")
	}
	return u, nil
}

// AppendUnsubscribe appends u as an UNSUBSCRIBE of protocol level v.
func AppendUnsubscribe(dst []byte, v byte, u *Unsubscribe) []byte {
	start := len(dst)
	dst = appendU16(dst, u.PacketID)
	if v == V5 {
		dst = appendProps(dst, &u.Props)
	}
	for _, f := range u.Filters {
		dst = appendBin(dst, f)
	}
	return frame(dst, start, UNSUBSCRIBE<<4|2)
}

// AppendUnsuback appends an UNSUBACK of protocol level v. A 3.1.1 UNSUBACK
// is the packet id alone: codes and props are written in 5 only.
func AppendUnsuback(dst []byte, v byte, pid uint16, codes []byte, props *Properties) []byte {
	if v != V5 {
		return appendU16(append(dst, UNSUBACK<<4, 2), pid)
	}
	return appendCodesAck(dst, UNSUBACK<<4, v, pid, codes, props)
}

// DecodeUnsuback parses an UNSUBACK of protocol level v: the client side.
// In 3.1.1 codes is nil.
func DecodeUnsuback(v byte, body []byte) (pid uint16, codes []byte, props Properties, err error) {
	if v != V5 {
		d := decoder{b: body}
		pid = d.u16()
		switch {
		case d.err != nil:
			return 0, nil, Properties{}, d.err
		case len(d.b) != 0:
			return 0, nil, Properties{}, malformed("bytes after the unsuback")
		case pid == 0:
			return 0, nil, Properties{}, protocol("packet id 0")
		}
		return pid, nil, Properties{}, nil
	}
	return decodeCodesAck(v, body, unsubackCodes)
}

// Disconnect is a DISCONNECT packet.
type Disconnect struct {
	Reason byte       // MQTT 5
	Props  Properties // MQTT 5
}

// DecodeDisconnect parses a DISCONNECT of protocol level v. A 3.1.1
// DISCONNECT has no body; in 5 the reason code and properties are optional.
func DecodeDisconnect(v byte, flags byte, body []byte) (*Disconnect, error) {
	if err := CheckFlags(DISCONNECT, flags); err != nil {
		return nil, err
	}
	dis := &Disconnect{}
	if v != V5 {
		if len(body) != 0 {
			return nil, malformed("disconnect with a body")
		}
		return dis, nil
	}
	if err := decodeReasonProps(body, disconnProps, disconnectCodes, &dis.Reason, &dis.Props); err != nil {
		return nil, err
	}
	return dis, nil
}

// decodeReasonProps parses the body of a 5 DISCONNECT or AUTH: an optional
// reason code and optional properties.
func decodeReasonProps(body []byte, allowed uint64, set string, reason *byte, props *Properties) error {
	d := decoder{b: body}
	if len(d.b) > 0 {
		*reason = d.u8()
		if len(d.b) > 0 {
			d.props(allowed, props)
		}
	}
	switch {
	case d.err != nil:
		return d.err
	case len(d.b) != 0:
		return malformed("bytes after the properties")
	case !validCode(set, *reason):
		return protocol("invalid reason code " + hex(*reason))
	case props.Has(PropAuthData) && !props.Has(PropAuthMethod):
		return protocol("authentication data without method")
	}
	return nil
}

// appendReasonProps appends a DISCONNECT or AUTH of 5, empty when the
// reason is Success and there are no properties.
func appendReasonProps(dst []byte, hdr, reason byte, props *Properties) []byte {
	pl := propsLen(props)
	switch {
	case reason == Success && pl == 0:
		return append(dst, hdr, 0)
	case pl == 0:
		return append(dst, hdr, 1, reason)
	}
	dst = appendVarint(append(dst, hdr), 1+varintLen(pl)+pl)
	return appendProps(append(dst, reason), props)
}

// AppendDisconnect appends d as a DISCONNECT of protocol level v; a 3.1.1
// one has no body (e0 00) and ignores d, which may be nil.
func AppendDisconnect(dst []byte, v byte, d *Disconnect) []byte {
	if v != V5 || d == nil {
		return append(dst, DISCONNECT<<4, 0)
	}
	return appendReasonProps(dst, DISCONNECT<<4, d.Reason, &d.Props)
}

// Auth is an AUTH packet (MQTT 5 only).
type Auth struct {
	Reason byte
	Props  Properties
}

// DecodeAuth parses an AUTH packet. Its reason code is Success,
// ContinueAuth or ReAuthenticate; authentication data without a method is
// ErrProtocol.
func DecodeAuth(flags byte, body []byte) (*Auth, error) {
	if err := CheckFlags(AUTH, flags); err != nil {
		return nil, err
	}
	a := &Auth{}
	if err := decodeReasonProps(body, authProps, authCodes, &a.Reason, &a.Props); err != nil {
		return nil, err
	}
	return a, nil
}

// AppendAuth appends a as an AUTH packet.
func AppendAuth(dst []byte, a *Auth) []byte {
	return appendReasonProps(dst, AUTH<<4, a.Reason, &a.Props)
}

// AppendPingreq appends a PINGREQ packet.
func AppendPingreq(dst []byte) []byte { return append(dst, PINGREQ<<4, 0) }

// AppendPingresp appends a PINGRESP packet.
func AppendPingresp(dst []byte) []byte { return append(dst, PINGRESP<<4, 0) }
