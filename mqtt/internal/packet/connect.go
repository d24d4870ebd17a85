package packet

// Will is the will message of a CONNECT.
type Will struct {
	Topic   string
	Payload []byte
	QoS     byte
	Retain  bool
	Props   Properties // MQTT 5 will properties
}

// Connect is a CONNECT packet.
type Connect struct {
	ProtoName   string // "MQTT"
	Version     byte   // V311 or V5
	CleanStart  bool   // Clean Session in 3.1.1
	KeepAlive   uint16 // seconds
	ClientID    string
	Will        *Will // nil without a will
	HasUsername bool
	HasPassword bool
	Username    string
	Password    []byte
	Props       Properties // MQTT 5
}

// Connect flags (section 3.1.2.3).
const (
	flagReserved   = 0x01
	flagCleanStart = 0x02
	flagWill       = 0x04
	flagWillRetain = 0x20
	flagPassword   = 0x40
	flagUsername   = 0x80
)

// DecodeConnect parses the body of a CONNECT packet. Its strings and byte
// slices are copies: none aliases body.
//
// A protocol name other than "MQTT" or a level other than 4 or 5 returns a
// *ReasonError with Code ConnRefusedProtocol (errors.Is ErrUnsupportedVersion):
// the server answers CONNACK 0x01 in 3.1.1, UnsupportedProtocolVersion in 5.
// The reserved flag, QoS 3 or will QoS or retain without the will flag, and
// in 3.1.1 a password without a user name, are ErrMalformed; a will topic
// that is empty or holds wildcards, or in 5 authentication data without a
// method, is ErrProtocol.
func DecodeConnect(body []byte) (*Connect, error) {
	d := decoder{b: body}
	name := d.str()
	level := d.u8()
	if d.err != nil {
		return nil, d.err
	}
	if string(name) != "MQTT" || level != V311 && level != V5 {
		return nil, &ReasonError{Code: ConnRefusedProtocol, Msg: "protocol " + string(name) + " level " + hex(level)}
	}
	c := &Connect{ProtoName: string(name), Version: level}
	flags := d.u8()
	c.KeepAlive = d.u16()
	if d.err != nil {
		return nil, d.err
	}
	willQoS := flags >> 3 & 3
	switch {
	case flags&flagReserved != 0:
		return nil, malformed("reserved connect flag set")
	case willQoS == 3:
		return nil, malformed("will QoS 3")
	case flags&flagWill == 0 && (willQoS != 0 || flags&flagWillRetain != 0):
		return nil, malformed("will QoS or retain without a will")
	case level == V311 && flags&flagPassword != 0 && flags&flagUsername == 0:
		return nil, malformed("password without user name")
	}
	c.CleanStart = flags&flagCleanStart != 0
	c.HasUsername = flags&flagUsername != 0
	c.HasPassword = flags&flagPassword != 0
	if level == V5 {
		d.props(connectProps, &c.Props)
	}
	c.ClientID = string(d.str())
	if flags&flagWill != 0 {
		w := &Will{QoS: willQoS, Retain: flags&flagWillRetain != 0}
		if level == V5 {
			d.props(willProps, &w.Props)
		}
		topic := d.str()
		w.Topic = string(topic)
		w.Payload = append([]byte{}, d.bin()...)
		if d.err == nil && (len(topic) == 0 || hasWildcard(topic)) {
			return nil, protocol("will topic empty or with wildcards")
		}
		c.Will = w
	}
	if c.HasUsername {
		c.Username = string(d.str())
	}
	if c.HasPassword {
		c.Password = append([]byte{}, d.bin()...)
	}
	if d.err != nil {
		return nil, d.err
	}
	if len(d.b) != 0 {
		return nil, malformed("bytes after the connect payload")
	}
	if c.Props.Has(PropAuthData) && !c.Props.Has(PropAuthMethod) {
		return nil, protocol("authentication data without method")
	}
	return c, nil
}

// AppendConnect appends c as a CONNECT packet. An empty ProtoName is "MQTT".
func AppendConnect(dst []byte, c *Connect) []byte {
	start := len(dst)
	name := c.ProtoName
	if name == "" {
		name = "MQTT"
	}
	dst = appendBin(dst, name)
	var flags byte
	if c.CleanStart {
		flags |= flagCleanStart
	}
	if c.Will != nil {
		flags |= flagWill | c.Will.QoS&3<<3
		if c.Will.Retain {
			flags |= flagWillRetain
		}
	}
	if c.HasPassword {
		flags |= flagPassword
	}
	if c.HasUsername {
		flags |= flagUsername
	}
	dst = appendU16(append(dst, c.Version, flags), c.KeepAlive)
	if c.Version == V5 {
		dst = appendProps(dst, &c.Props)
	}
	dst = appendBin(dst, c.ClientID)
	if c.Will != nil {
		if c.Version == V5 {
			dst = appendProps(dst, &c.Will.Props)
		}
		dst = appendBin(appendBin(dst, c.Will.Topic), c.Will.Payload)
	}
	if c.HasUsername {
		dst = appendBin(dst, c.Username)
	}
	if c.HasPassword {
		dst = appendBin(dst, c.Password)
	}
	return frame(dst, start, CONNECT<<4)
}

// AppendConnack appends a CONNACK of protocol level v with a 3.1.1 return
// code or a 5 reason code; props (nil for none) are written in 5 only.
func AppendConnack(dst []byte, v byte, sessionPresent bool, code byte, props *Properties) []byte {
	start := len(dst)
	var ack byte
	if sessionPresent {
		ack = 1
	}
	dst = append(dst, ack, code)
	if v == V5 {
		dst = appendProps(dst, props)
	}
	return frame(dst, start, CONNACK<<4)
}

// DecodeConnack parses the body of a CONNACK of protocol level v: the
// client side, for tests and clients.
func DecodeConnack(v byte, body []byte) (sessionPresent bool, code byte, props Properties, err error) {
	d := decoder{b: body}
	ack := d.u8()
	code = d.u8()
	if v == V5 {
		d.props(connackProps, &props)
	}
	switch {
	case d.err != nil:
		return false, 0, Properties{}, d.err
	case len(d.b) != 0:
		return false, 0, Properties{}, malformed("bytes after the connack")
	case ack&^1 != 0:
		return false, 0, Properties{}, malformed("reserved connack flags set")
	case v == V5 && !validCode(connackCodes5, code) || v != V5 && code > ConnRefusedNotAuthorized:
		return false, 0, Properties{}, protocol("invalid connack code " + hex(code))
	case ack != 0 && code != 0:
		return false, 0, Properties{}, protocol("session present with a refusal")
	case props.Has(PropAuthData) && !props.Has(PropAuthMethod):
		return false, 0, Properties{}, protocol("authentication data without method")
	}
	return ack == 1, code, props, nil
}
