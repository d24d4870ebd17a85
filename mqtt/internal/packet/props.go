package packet

// Property identifiers of MQTT 5.0 (section 2.2.2.2).
const (
	PropPayloadFormat        byte = 0x01
	PropMessageExpiry        byte = 0x02
	PropContentType          byte = 0x03
	PropResponseTopic        byte = 0x08
	PropCorrelationData      byte = 0x09
	PropSubscriptionIDs      byte = 0x0B
	PropSessionExpiry        byte = 0x11
	PropAssignedClientID     byte = 0x12
	PropServerKeepAlive      byte = 0x13
	PropAuthMethod           byte = 0x15
	PropAuthData             byte = 0x16
	PropRequestProblemInfo   byte = 0x17
	PropWillDelay            byte = 0x18
	PropRequestResponseInfo  byte = 0x19
	PropResponseInfo         byte = 0x1A
	PropServerReference      byte = 0x1C
	PropReasonString         byte = 0x1F
	PropReceiveMaximum       byte = 0x21
	PropTopicAliasMaximum    byte = 0x22
	PropTopicAlias           byte = 0x23
	PropMaximumQoS           byte = 0x24
	PropRetainAvailable      byte = 0x25
	PropUser                 byte = 0x26
	PropMaximumPacketSize    byte = 0x27
	PropWildcardSubAvailable byte = 0x28
	PropSubIDAvailable       byte = 0x29
	PropSharedSubAvailable   byte = 0x2A
)

// UserProp is one User Property: a name/value pair of strings.
type UserProp struct{ Key, Value string }

// Properties holds the MQTT 5 properties of a packet or of a will.
//
// Present has bit 1<<id set for each property id present; encoders write
// exactly the properties whose bit is set, except the two repeatable ones,
// User and SubscriptionIDs, which are written whenever their slice is not
// empty (decoders set their bit too). A Properties is filled only by MQTT 5
// decoders and written only by MQTT 5 encoders.
type Properties struct {
	Present              uint64
	PayloadFormat        byte       // 0x01: 0 unspecified bytes, 1 UTF-8
	MessageExpiry        uint32     // 0x02: seconds
	ContentType          string     // 0x03
	ResponseTopic        string     // 0x08
	CorrelationData      []byte     // 0x09
	SubscriptionIDs      []uint32   // 0x0B: one in SUBSCRIBE, any number in PUBLISH
	SessionExpiry        uint32     // 0x11: seconds
	AssignedClientID     string     // 0x12
	ServerKeepAlive      uint16     // 0x13: seconds
	AuthMethod           string     // 0x15
	AuthData             []byte     // 0x16
	RequestProblemInfo   byte       // 0x17: 0 or 1
	WillDelay            uint32     // 0x18: seconds
	RequestResponseInfo  byte       // 0x19: 0 or 1
	ResponseInfo         string     // 0x1A
	ServerReference      string     // 0x1C
	ReasonString         string     // 0x1F
	ReceiveMaximum       uint16     // 0x21: not 0
	TopicAliasMaximum    uint16     // 0x22
	TopicAlias           uint16     // 0x23: not 0
	MaximumQoS           byte       // 0x24: 0 or 1
	RetainAvailable      byte       // 0x25: 0 or 1
	User                 []UserProp // 0x26
	MaximumPacketSize    uint32     // 0x27: not 0
	WildcardSubAvailable byte       // 0x28: 0 or 1
	SubIDAvailable       byte       // 0x29: 0 or 1
	SharedSubAvailable   byte       // 0x2A: 0 or 1
}

// Has reports whether property id is present.
func (p *Properties) Has(id byte) bool { return id < 64 && p.Present&(1<<id) != 0 }

// Set marks property id present so encoders write it.
func (p *Properties) Set(id byte) {
	if id < 64 {
		p.Present |= 1 << id
	}
}

// Property value types.
const (
	tNone byte = iota
	tBool      // a byte that must be 0 or 1
	tU16
	tU32
	tVarint
	tStr
	tBin
	tPair
)

var propType = [PropSharedSubAvailable + 1]byte{
	PropPayloadFormat:        tBool,
	PropMessageExpiry:        tU32,
	PropContentType:          tStr,
	PropResponseTopic:        tStr,
	PropCorrelationData:      tBin,
	PropSubscriptionIDs:      tVarint,
	PropSessionExpiry:        tU32,
	PropAssignedClientID:     tStr,
	PropServerKeepAlive:      tU16,
	PropAuthMethod:           tStr,
	PropAuthData:             tBin,
	PropRequestProblemInfo:   tBool,
	PropWillDelay:            tU32,
	PropRequestResponseInfo:  tBool,
	PropResponseInfo:         tStr,
	PropServerReference:      tStr,
	PropReasonString:         tStr,
	PropReceiveMaximum:       tU16,
	PropTopicAliasMaximum:    tU16,
	PropTopicAlias:           tU16,
	PropMaximumQoS:           tBool,
	PropRetainAvailable:      tBool,
	PropUser:                 tPair,
	PropMaximumPacketSize:    tU32,
	PropWildcardSubAvailable: tBool,
	PropSubIDAvailable:       tBool,
	PropSharedSubAvailable:   tBool,
}

func bits(ids ...byte) uint64 {
	var m uint64
	for _, id := range ids {
		m |= 1 << id
	}
	return m
}

// Properties each packet may carry (the table of section 2.2.2.2).
var (
	msgProps      = bits(PropPayloadFormat, PropMessageExpiry, PropContentType, PropResponseTopic, PropCorrelationData, PropUser)
	publishProps  = msgProps | bits(PropSubscriptionIDs, PropTopicAlias)
	willProps     = msgProps | bits(PropWillDelay)
	connectProps  = bits(PropSessionExpiry, PropAuthMethod, PropAuthData, PropRequestProblemInfo, PropRequestResponseInfo, PropReceiveMaximum, PropTopicAliasMaximum, PropUser, PropMaximumPacketSize)
	connackProps  = bits(PropSessionExpiry, PropAssignedClientID, PropServerKeepAlive, PropAuthMethod, PropAuthData, PropResponseInfo, PropServerReference, PropReasonString, PropReceiveMaximum, PropTopicAliasMaximum, PropMaximumQoS, PropRetainAvailable, PropUser, PropMaximumPacketSize, PropWildcardSubAvailable, PropSubIDAvailable, PropSharedSubAvailable)
	ackProps      = bits(PropReasonString, PropUser) // PUBACK..PUBCOMP, SUBACK, UNSUBACK
	subProps      = bits(PropSubscriptionIDs, PropUser)
	unsubProps    = bits(PropUser)
	disconnProps  = bits(PropSessionExpiry, PropServerReference, PropReasonString, PropUser)
	authProps     = bits(PropAuthMethod, PropAuthData, PropReasonString, PropUser)
	repeatedProps = bits(PropUser, PropSubscriptionIDs)
)

// props reads a property section (length and properties) into p, allowing
// only the ids in allowed. A repeated id is a protocol error but for User and
// SubscriptionIDs (DecodeSubscribe allows one of these).
func (d *decoder) props(allowed uint64, p *Properties) {
	n := d.varint()
	if d.err != nil {
		return
	}
	if uint32(len(d.b)) < n {
		d.short()
		return
	}
	pd := decoder{b: d.b[:n]}
	d.b = d.b[n:]
	for len(pd.b) > 0 && pd.err == nil {
		id32 := pd.varint()
		if pd.err != nil {
			break
		}
		if id32 >= uint32(len(propType)) || propType[id32] == tNone {
			pd.fail(malformed("unknown property " + hex(byte(min(id32, 0xff)))))
			break
		}
		id := byte(id32)
		if allowed&(1<<id) == 0 {
			pd.fail(protocol("property " + hex(id) + " not allowed in this packet"))
			break
		}
		if p.Has(id) && repeatedProps&(1<<id) == 0 {
			pd.fail(protocol("property " + hex(id) + " more than once"))
			break
		}
		p.Set(id)
		pd.prop(id, p)
	}
	if pd.err != nil {
		d.fail(pd.err)
	}
}

func (d *decoder) prop(id byte, p *Properties) {
	var (
		u8  byte
		u16 uint16
		u32 uint32
		s   string
		b   []byte
	)
	switch propType[id] {
	case tBool:
		u8 = d.u8()
		if u8 > 1 && d.err == nil {
			d.fail(protocol("property " + hex(id) + " must be 0 or 1"))
		}
	case tU16:
		u16 = d.u16()
	case tU32:
		u32 = d.u32()
	case tVarint:
		u32 = d.varint()
	case tStr:
		s = string(d.str())
	case tBin:
		b = append([]byte{}, d.bin()...)
	case tPair:
		k := string(d.str())
		v := string(d.str())
		if d.err == nil {
			p.User = append(p.User, UserProp{k, v})
		}
		return
	}
	if d.err != nil {
		return
	}
	switch id {
	case PropPayloadFormat:
		p.PayloadFormat = u8
	case PropMessageExpiry:
		p.MessageExpiry = u32
	case PropContentType:
		p.ContentType = s
	case PropResponseTopic:
		p.ResponseTopic = s
	case PropCorrelationData:
		p.CorrelationData = b
	case PropSubscriptionIDs:
		if u32 == 0 {
			d.fail(protocol("subscription identifier 0"))
		}
		p.SubscriptionIDs = append(p.SubscriptionIDs, u32)
	case PropSessionExpiry:
		p.SessionExpiry = u32
	case PropAssignedClientID:
		p.AssignedClientID = s
	case PropServerKeepAlive:
		p.ServerKeepAlive = u16
	case PropAuthMethod:
		p.AuthMethod = s
	case PropAuthData:
		p.AuthData = b
	case PropRequestProblemInfo:
		p.RequestProblemInfo = u8
	case PropWillDelay:
		p.WillDelay = u32
	case PropRequestResponseInfo:
		p.RequestResponseInfo = u8
	case PropResponseInfo:
		p.ResponseInfo = s
	case PropServerReference:
		p.ServerReference = s
	case PropReasonString:
		p.ReasonString = s
	case PropReceiveMaximum:
		if u16 == 0 {
			d.fail(protocol("receive maximum 0"))
		}
		p.ReceiveMaximum = u16
	case PropTopicAliasMaximum:
		p.TopicAliasMaximum = u16
	case PropTopicAlias:
		if u16 == 0 {
			d.fail(protocol("topic alias 0"))
		}
		p.TopicAlias = u16
	case PropMaximumQoS:
		p.MaximumQoS = u8
	case PropRetainAvailable:
		p.RetainAvailable = u8
	case PropMaximumPacketSize:
		if u32 == 0 {
			d.fail(protocol("maximum packet size 0"))
		}
		p.MaximumPacketSize = u32
	case PropWildcardSubAvailable:
		p.WildcardSubAvailable = u8
	case PropSubIDAvailable:
		p.SubIDAvailable = u8
	case PropSharedSubAvailable:
		p.SharedSubAvailable = u8
	}
}

func hex(b byte) string {
	const digits = "0123456789abcdef"
	return "0x" + string([]byte{digits[b>>4], digits[b&15]})
}

// propsLen is the size of the properties of p, without their length field.
func propsLen(p *Properties) int {
	if p == nil {
		return 0
	}
	n := 0
	for id := PropPayloadFormat; id < byte(len(propType)); id++ {
		t := propType[id]
		if t == tNone || t == tPair || id == PropSubscriptionIDs || !p.Has(id) {
			continue
		}
		switch t {
		case tBool:
			n += 2
		case tU16:
			n += 3
		case tU32:
			n += 5
		case tStr:
			n += 3 + len(p.str(id))
		case tBin:
			n += 3 + len(p.bin(id))
		}
	}
	for _, v := range p.SubscriptionIDs {
		n += 1 + varintLen(int(v))
	}
	for _, u := range p.User {
		n += 5 + len(u.Key) + len(u.Value)
	}
	return n
}

// str returns the value of a string property.
func (p *Properties) str(id byte) string {
	switch id {
	case PropContentType:
		return p.ContentType
	case PropResponseTopic:
		return p.ResponseTopic
	case PropAssignedClientID:
		return p.AssignedClientID
	case PropAuthMethod:
		return p.AuthMethod
	case PropResponseInfo:
		return p.ResponseInfo
	case PropServerReference:
		return p.ServerReference
	case PropReasonString:
		return p.ReasonString
	}
	return ""
}

// appendProps appends the property length and the properties of p (nil
// means none) in ascending id order.
func appendProps(dst []byte, p *Properties) []byte {
	dst = appendVarint(dst, propsLen(p))
	if p == nil {
		return dst
	}
	for id := PropPayloadFormat; id < byte(len(propType)); id++ {
		t := propType[id]
		if id == PropSubscriptionIDs {
			for _, v := range p.SubscriptionIDs {
				dst = appendVarint(append(dst, id), int(v))
			}
			continue
		}
		if id == PropUser {
			for _, u := range p.User {
				dst = appendBin(appendBin(append(dst, id), u.Key), u.Value)
			}
			continue
		}
		if t == tNone || !p.Has(id) {
			continue
		}
		dst = append(dst, id)
		switch t {
		case tBool:
			dst = append(dst, p.byteProp(id))
		case tU16:
			dst = appendU16(dst, p.u16Prop(id))
		case tU32:
			dst = appendU32(dst, p.u32Prop(id))
		case tStr:
			dst = appendBin(dst, p.str(id))
		case tBin:
			dst = appendBin(dst, p.bin(id))
		}
	}
	return dst
}

// bin returns the value of a binary property.
func (p *Properties) bin(id byte) []byte {
	if id == PropCorrelationData {
		return p.CorrelationData
	}
	return p.AuthData
}

func (p *Properties) byteProp(id byte) byte {
	switch id {
	case PropPayloadFormat:
		return p.PayloadFormat
	case PropRequestProblemInfo:
		return p.RequestProblemInfo
	case PropRequestResponseInfo:
		return p.RequestResponseInfo
	case PropMaximumQoS:
		return p.MaximumQoS
	case PropRetainAvailable:
		return p.RetainAvailable
	case PropWildcardSubAvailable:
		return p.WildcardSubAvailable
	case PropSubIDAvailable:
		return p.SubIDAvailable
	case PropSharedSubAvailable:
		return p.SharedSubAvailable
	}
	return 0
}

func (p *Properties) u16Prop(id byte) uint16 {
	switch id {
	case PropServerKeepAlive:
		return p.ServerKeepAlive
	case PropReceiveMaximum:
		return p.ReceiveMaximum
	case PropTopicAliasMaximum:
		return p.TopicAliasMaximum
	case PropTopicAlias:
		return p.TopicAlias
	}
	return 0
}

func (p *Properties) u32Prop(id byte) uint32 {
	switch id {
	case PropMessageExpiry:
		return p.MessageExpiry
	case PropSessionExpiry:
		return p.SessionExpiry
	case PropWillDelay:
		return p.WillDelay
	case PropMaximumPacketSize:
		return p.MaximumPacketSize
	}
	return 0
}
