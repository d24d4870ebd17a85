package packet

import (
	"errors"
	"strconv"
)

// Packet types: the high nibble of a fixed header's first byte.
const (
	CONNECT     byte = 1
	CONNACK     byte = 2
	PUBLISH     byte = 3
	PUBACK      byte = 4
	PUBREC      byte = 5
	PUBREL      byte = 6
	PUBCOMP     byte = 7
	SUBSCRIBE   byte = 8
	SUBACK      byte = 9
	UNSUBSCRIBE byte = 10
	UNSUBACK    byte = 11
	PINGREQ     byte = 12
	PINGRESP    byte = 13
	DISCONNECT  byte = 14
	AUTH        byte = 15 // MQTT 5 only
)

var typeNames = [16]string{"RESERVED", "CONNECT", "CONNACK", "PUBLISH", "PUBACK", "PUBREC", "PUBREL", "PUBCOMP",
	"SUBSCRIBE", "SUBACK", "UNSUBSCRIBE", "UNSUBACK", "PINGREQ", "PINGRESP", "DISCONNECT", "AUTH"}

// TypeName returns the name of packet type typ ("PUBLISH"), for logs and
// traces.
func TypeName(typ byte) string { return typeNames[typ&0x0f] }

// Protocol levels carried in CONNECT.
const (
	V311 byte = 4 // MQTT 3.1.1
	V5   byte = 5 // MQTT 5.0
)

// Reason codes of MQTT 5.0 (section 2.4 of the specification).
const (
	Success                     byte = 0x00 // also Normal disconnection and Granted QoS 0
	GrantedQoS1                 byte = 0x01
	GrantedQoS2                 byte = 0x02
	DisconnectWithWill          byte = 0x04
	NoMatchingSubscribers       byte = 0x10
	NoSubscriptionExisted       byte = 0x11
	ContinueAuth                byte = 0x18
	ReAuthenticate              byte = 0x19
	UnspecifiedError            byte = 0x80
	MalformedPacket             byte = 0x81
	ProtocolError               byte = 0x82
	ImplementationSpecificError byte = 0x83
	UnsupportedProtocolVersion  byte = 0x84
	ClientIDNotValid            byte = 0x85
	BadUserNameOrPassword       byte = 0x86
	NotAuthorized               byte = 0x87
	ServerUnavailable           byte = 0x88
	ServerBusy                  byte = 0x89
	Banned                      byte = 0x8A
	ServerShuttingDown          byte = 0x8B
	BadAuthMethod               byte = 0x8C
	KeepAliveTimeout            byte = 0x8D
	SessionTakenOver            byte = 0x8E
	TopicFilterInvalid          byte = 0x8F
	TopicNameInvalid            byte = 0x90
	PacketIDInUse               byte = 0x91
	PacketIDNotFound            byte = 0x92
	ReceiveMaxExceeded          byte = 0x93
	TopicAliasInvalid           byte = 0x94
	PacketTooLarge              byte = 0x95
	MessageRateTooHigh          byte = 0x96
	QuotaExceeded               byte = 0x97
	AdministrativeAction        byte = 0x98
	PayloadFormatInvalid        byte = 0x99
	RetainNotSupported          byte = 0x9A
	QoSNotSupported             byte = 0x9B
	UseAnotherServer            byte = 0x9C
	ServerMoved                 byte = 0x9D
	SharedSubNotSupported       byte = 0x9E
	ConnectionRateExceeded      byte = 0x9F
	MaxConnectTime              byte = 0xA0
	SubIDsNotSupported          byte = 0xA1
	WildcardSubNotSupported     byte = 0xA2
)

// CONNACK return codes of MQTT 3.1.1 (section 3.2.2.3).
const (
	ConnAccepted                 byte = 0
	ConnRefusedProtocol          byte = 1
	ConnRefusedIDRejected        byte = 2
	ConnRefusedServerUnavailable byte = 3
	ConnRefusedBadUserPass       byte = 4
	ConnRefusedNotAuthorized     byte = 5
)

// Reason codes each packet may carry (MQTT 5.0; SUBACK and CONNACK also 3.1.1).
const (
	pubackCodes     = "\x00\x10\x80\x83\x87\x90\x91\x97\x99" // PUBACK, PUBREC
	pubrelCodes     = "\x00\x92"                             // PUBREL, PUBCOMP
	subackCodes3    = "\x00\x01\x02\x80"
	subackCodes5    = "\x00\x01\x02\x80\x83\x87\x8F\x91\x97\x9E\xA1\xA2"
	unsubackCodes   = "\x00\x11\x80\x83\x87\x8F\x91"
	connackCodes5   = "\x00\x80\x81\x82\x83\x84\x85\x86\x87\x88\x89\x8A\x8C\x90\x95\x97\x99\x9A\x9B\x9C\x9D\x9F"
	disconnectCodes = "\x00\x04\x80\x81\x82\x83\x87\x89\x8B\x8D\x8E\x8F\x90\x93\x94\x95\x96\x97\x98\x99\x9A\x9B\x9C\x9D\x9E\x9F\xA0\xA1\xA2"
	authCodes       = "\x00\x18\x19"
)

func validCode(set string, c byte) bool {
	for i := 0; i < len(set); i++ {
		if set[i] == c {
			return true
		}
	}
	return false
}

// Sentinel errors. Decode errors are *ReasonError values that match these
// with errors.Is according to their Code.
var (
	// ErrMalformed: the bytes do not follow the packet layout (reason 0x81).
	ErrMalformed = errors.New("packet: malformed packet")
	// ErrProtocol: well formed but breaks a rule of the protocol (reason 0x82).
	ErrProtocol = errors.New("packet: protocol error")
	// ErrTooLarge: the packet is larger than the Reader's maximum (reason 0x95).
	ErrTooLarge = errors.New("packet: packet too large")
	// ErrUnsupportedVersion: CONNECT with a protocol name or level other than
	// MQTT 3.1.1 or 5.0 (3.1.1 return code 0x01).
	ErrUnsupportedVersion = errors.New("packet: unsupported protocol version")
)

// ReasonError is a decode failure with the reason code it maps to:
// MalformedPacket, ProtocolError, PacketTooLarge, or for CONNECT
// ConnRefusedProtocol (an unsupported protocol name or level, which a server
// answers with CONNACK 0x01 in 3.1.1 and UnsupportedProtocolVersion in 5.0).
type ReasonError struct {
	Code byte
	Msg  string
}

// Error returns the sentinel's text followed by the detail.
func (e *ReasonError) Error() string {
	if s := e.sentinel(); s != nil {
		return s.Error() + ": " + e.Msg
	}
	return "packet: reason " + strconv.Itoa(int(e.Code)) + ": " + e.Msg
}

// Is makes errors.Is(err, ErrMalformed) and the like work by Code.
func (e *ReasonError) Is(target error) bool { return target != nil && e.sentinel() == target }

func (e *ReasonError) sentinel() error {
	switch e.Code {
	case MalformedPacket:
		return ErrMalformed
	case ProtocolError:
		return ErrProtocol
	case PacketTooLarge:
		return ErrTooLarge
	case ConnRefusedProtocol:
		return ErrUnsupportedVersion
	}
	return nil
}

func malformed(msg string) error { return &ReasonError{Code: MalformedPacket, Msg: msg} }
func protocol(msg string) error  { return &ReasonError{Code: ProtocolError, Msg: msg} }

// fixedFlags holds the only flags allowed for each packet type but PUBLISH.
var fixedFlags = [16]byte{PUBREL: 2, SUBSCRIBE: 2, UNSUBSCRIBE: 2}

// CheckFlags reports ErrMalformed for a reserved packet type (0) or for fixed
// header flags other than those the specification fixes: 0b0010 for PUBREL,
// SUBSCRIBE and UNSUBSCRIBE, 0 for every other type but PUBLISH, whose flags
// DecodePublish checks. Reader.Next calls it on every packet.
func CheckFlags(typ, flags byte) error {
	if typ == 0 || typ > AUTH {
		return malformed("reserved packet type")
	}
	if typ != PUBLISH && flags != fixedFlags[typ] {
		return malformed("invalid fixed header flags")
	}
	return nil
}
