package mqtt

import (
	"bytes"
	"encoding/base64"
	"strconv"
	"strings"

	"natsd.dev/mqtt/internal/packet"
)

// NATS headers that carry what an MQTT 5 PUBLISH says besides its topic
// and payload. User properties become headers of their own (a NATS header
// may repeat, so they keep their order and duplicates); the response topic
// becomes the message's reply subject.
const (
	hdrRetain      = "Nmqtt-Retain"         // "1": published with the retain flag (for retain-as-published)
	hdrExpiry      = "Nmqtt-Msg-Expiry"     // message expiry interval, seconds
	hdrContentType = "Nmqtt-Content-Type"   // content type
	hdrFormat      = "Nmqtt-Payload-Format" // "1": UTF-8 payload
	hdrCorrelation = "Nmqtt-Correlation"    // correlation data, base64 (standard, padded)
)

// buildHeader appends the NATS header block of an MQTT publish to dst:
// the QoS always (as upstream), the rest when there is something to say.
func buildHeader(dst []byte, qos byte, retain bool, props *packet.Properties) []byte {
	dst = append(dst, "NATS/1.0\r\n"...)
	dst = appendField(dst, hdrPub, string('0'+qos))
	if retain {
		dst = appendField(dst, hdrRetain, "1")
	}
	if props != nil {
		if props.Has(packet.PropMessageExpiry) {
			dst = appendField(dst, hdrExpiry, strconv.FormatUint(uint64(props.MessageExpiry), 10))
		}
		if props.Has(packet.PropContentType) && validValue(props.ContentType) {
			dst = appendField(dst, hdrContentType, props.ContentType)
		}
		if props.Has(packet.PropPayloadFormat) && props.PayloadFormat == 1 {
			dst = appendField(dst, hdrFormat, "1")
		}
		if props.Has(packet.PropCorrelationData) {
			dst = appendField(dst, hdrCorrelation, base64.StdEncoding.EncodeToString(props.CorrelationData))
		}
		for _, up := range props.User {
			if validKey(up.Key) && validValue(up.Value) && !internalKey(up.Key) {
				dst = appendField(dst, up.Key, up.Value)
			}
		}
	}
	return append(dst, "\r\n"...)
}

// onlyAlias reports whether props say nothing a header carries.
func onlyAlias(p *packet.Properties) bool {
	return p == nil || p.Present&^(1<<packet.PropTopicAlias|1<<packet.PropResponseTopic|1<<packet.PropWillDelay) == 0
}

func appendField(dst []byte, k, v string) []byte {
	dst = append(dst, k...)
	dst = append(dst, ": "...)
	dst = append(dst, v...)
	return append(dst, "\r\n"...)
}

// validKey reports whether a user property's name can be a NATS header
// name (printable ASCII without ':' or spaces); others are left out.
func validKey(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		if c := k[i]; c <= ' ' || c >= 0x7f || c == ':' {
			return false
		}
	}
	return true
}

// validValue reports whether a value fits on a header line.
func validValue(v string) bool { return !strings.ContainsAny(v, "\r\n") }

// internalKey reports the headers MQTT itself sets, which are not user
// properties.
func internalKey(k string) bool {
	return len(k) > 6 && strings.EqualFold(k[:6], "Nmqtt-")
}

// fromHeader fills the properties of a delivery to an MQTT 5 client from a
// NATS header block: user properties for the headers, the others from the
// Nmqtt- headers. It reports whether the message was published retained.
func fromHeader(hdr []byte, p *packet.Properties) (retain bool, expiry int64) {
	expiry = -1
	if len(hdr) == 0 {
		return false, -1
	}
	lines := hdr
	if i := bytes.Index(lines, []byte("\r\n")); i >= 0 {
		lines = lines[i+2:] // the status line
	}
	for len(lines) > 0 {
		i := bytes.Index(lines, []byte("\r\n"))
		if i <= 0 {
			break
		}
		line := string(lines[:i])
		lines = lines[i+2:]
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		v = strings.TrimLeft(v, " ")
		switch {
		case strings.EqualFold(k, hdrPub):
		case strings.EqualFold(k, hdrRetain):
			retain = v == "1"
		case strings.EqualFold(k, hdrExpiry):
			if n, err := strconv.ParseUint(v, 10, 32); err == nil {
				expiry = int64(n)
			}
		case strings.EqualFold(k, hdrContentType):
			p.ContentType = v
			p.Set(packet.PropContentType)
		case strings.EqualFold(k, hdrFormat):
			p.PayloadFormat = 1
			p.Set(packet.PropPayloadFormat)
		case strings.EqualFold(k, hdrCorrelation):
			if b, err := base64.StdEncoding.DecodeString(v); err == nil {
				p.CorrelationData = b
				p.Set(packet.PropCorrelationData)
			}
		case internalKey(k):
		default:
			p.User = append(p.User, packet.UserProp{Key: k, Value: v})
			p.Set(packet.PropUser)
		}
	}
	return retain, expiry
}
