// Package packet encodes and decodes the control packets of MQTT 3.1.1
// (OASIS Standard, protocol level 4) and MQTT 5.0 (level 5).
//
// # Usage
//
// A connection's reader goroutine owns a Reader and asks it for whole
// packets; it decodes each by type with the protocol level its CONNECT
// set, and answers with the Append functions into its outbound buffer:
//
//	r := packet.NewReader(conn, 4096)
//	r.SetMax(maxPacket) // before CONNECT: a small bound
//	typ, flags, body, err := r.Next()
//	c, err := packet.DecodeConnect(body)
//	out = packet.AppendConnack(out, c.Version, false, packet.Success, nil)
//	for {
//		typ, flags, body, err = r.Next()
//		switch typ {
//		case packet.PUBLISH:
//			err = packet.DecodePublish(c.Version, flags, body, &pub)
//		...
//		}
//		if !r.Buffered() {
//			flush(out)
//		}
//	}
//
// # Memory
//
// The body returned by Reader.Next aliases the Reader's buffer until the
// next call. DecodePublish keeps that aliasing: Publish.Topic and
// Publish.Payload are views of the body, so the 3.1.1 path allocates
// nothing; its properties are copies. Every other decoder copies what it
// returns. The Reader's buffer grows with the bytes of a packet larger than
// it as they arrive, never to a declared length that has not been received,
// and never past the maximum of SetMax, so a connection that has not
// authenticated holds little memory whatever it claims.
//
// # Errors
//
// Decode errors are *ReasonError values with the MQTT 5 reason code a
// server sends back (MalformedPacket, ProtocolError, PacketTooLarge) and
// match ErrMalformed, ErrProtocol and ErrTooLarge with errors.Is. In 3.1.1,
// where there are no reason codes, a server closes the connection. A CONNECT
// of an unsupported protocol is Code ConnRefusedProtocol (ErrUnsupportedVersion).
//
// Decoders check what the specification makes a packet-level rule: fixed
// header flags, reserved bits, lengths, well-formed UTF-8 strings without
// U+0000, property identifiers allowed in each packet, duplicates and
// values of properties, reason codes valid for each packet, and non-zero
// packet identifiers. What depends on a session (topic aliases, receive
// maximum, subscription identifiers sent by a client, the validity of each
// filter, natsd's refusal of topics a NATS subject cannot carry) is for the
// caller; ValidTopicName and ValidTopicFilter help there.
//
// # Concurrency
//
// A Reader is used by one goroutine. Everything else is stateless.
package packet
