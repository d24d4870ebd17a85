package auth

import (
	"errors"
	"strings"
)

// ConnKind is the kind of connection being authenticated, as the
// allowed_connection_types option and user JWTs name them.
type ConnKind uint8

// The connection kinds. Their String forms are the names upstream uses in
// configuration files and in user JWTs (nats-io/jwt/v2's ConnectionType...
// constants).
const (
	KindStandard          ConnKind = iota // "STANDARD": a NATS client over TCP or TLS
	KindWebsocket                         // "WEBSOCKET": a NATS client over WebSocket
	KindMQTT                              // "MQTT": an MQTT client over TCP or TLS
	KindMQTTWebsocket                     // "MQTT_WS": an MQTT client over WebSocket
	KindLeafnode                          // "LEAFNODE": an inbound leaf node connection
	KindLeafnodeWebsocket                 // "LEAFNODE_WS": a leaf node over WebSocket
	KindInProcess                         // "IN_PROCESS": an in-process client (nats.InProcessServer)
	numKinds
)

var kindNames = [numKinds]string{
	KindStandard:          "STANDARD",
	KindWebsocket:         "WEBSOCKET",
	KindMQTT:              "MQTT",
	KindMQTTWebsocket:     "MQTT_WS",
	KindLeafnode:          "LEAFNODE",
	KindLeafnodeWebsocket: "LEAFNODE_WS",
	KindInProcess:         "IN_PROCESS",
}

// ErrUnknownConnKind is returned by ParseConnKind for a name that is not
// a connection type.
var ErrUnknownConnKind = errors.New("auth: unknown connection type")

// String returns the upstream name of k ("STANDARD", "MQTT_WS", ...).
func (k ConnKind) String() string {
	if k < numKinds {
		return kindNames[k]
	}
	return "UNKNOWN"
}

// ParseConnKind returns the kind named s. Like upstream, the comparison
// ignores case ("websocket" is KindWebsocket). It returns
// ErrUnknownConnKind for any other name.
func ParseConnKind(s string) (ConnKind, error) {
	for k, name := range kindNames {
		if strings.EqualFold(s, name) {
			return ConnKind(k), nil
		}
	}
	return 0, ErrUnknownConnKind
}

// kindSet is a set of ConnKinds as a bit mask; zero means "every kind".
type kindSet uint16

func makeKindSet(kinds []ConnKind) kindSet {
	var s kindSet
	for _, k := range kinds {
		if k < numKinds {
			s |= 1 << k
		}
	}
	return s
}

func (s kindSet) allows(k ConnKind) bool {
	return s == 0 || s&(1<<k) != 0
}
