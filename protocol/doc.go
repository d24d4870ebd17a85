// Package protocol implements the NATS wire protocol: a resumable parser
// for every client and inter-server operation, and append-style encoders.
// It has no dependencies beyond the standard library, so a client can use
// it on its own.
//
// # Usage
//
// A connection's reader owns one Parser, sets its Role and limits, and
// feeds it whatever each read returned:
//
//	p := protocol.Parser{Role: protocol.RoleClient, MaxPayload: maxPayload}
//	for {
//		n, err := conn.Read(buf)
//		if n > 0 {
//			if err := p.Parse(buf[:n], h); err != nil {
//				if text := protocol.ClientText(err); text != "" {
//					out = protocol.AppendErr(out, text)
//				}
//				// flush out, close the connection
//			}
//		}
//		...
//	}
//
// A Handler that also implements LineHandler gets each message operation
// once more, without its payload, as soon as its control line is parsed,
// so a server can answer what upstream answers at the line (a pedantic
// subject warning, headers support) before the payload is read.
//
// The Handler receives one *Frame per complete operation, in order. Reads
// may split the input at any byte; the frames and the error are the same
// however the input is split (the fuzz tests check this).
//
// Writers build output with the Append functions, which append one whole
// operation to a caller's buffer and never allocate when it has room:
//
//	out = protocol.AppendMsgHeader(out, subject, sid, reply, len(payload))
//	out = append(out, payload...)
//	out = append(out, "\r\n"...)
//
// # Concurrency
//
// A Parser is not safe for concurrent use; the goroutine that reads the
// connection owns it. The Handler runs on that goroutine, inside Parse.
// Encoders are plain functions and safe to call from any goroutine on
// buffers the caller owns.
//
// # Memory
//
// Every slice in a Frame (Subject, Payload, Queues, ...) is a view into
// the buffer passed to Parse, or into the parser's scratch space when the
// operation spans two Parse calls. Views are valid only until the Handler
// returns: copy whatever outlives the call. The same *Frame is reused for
// every operation. Parse never retains the caller's buffer after it
// returns.
//
// In steady state parsing allocates nothing. A control line that spans two
// reads is copied into a scratch buffer the parser keeps; a payload that
// spans two reads is copied once into a scratch buffer of exactly the
// needed size (payload and CRLF), which is kept for reuse when it is at
// most 64 KiB. While a control line streams in without a line end the
// parser holds at most the limit plus two bytes of it.
//
// # Wire format
//
// Every control line is a verb, blanks (runs of spaces and tabs) and
// arguments, ended by "\r\n"; a bare "\n" is also accepted, as upstream
// does. Verbs are case-insensitive. Message operations are followed by
// exactly <size> payload bytes and "\r\n" (here a bare "\n" is an error).
// Sizes are 1 to 9 decimal digits. In SUB and UNSUB a carriage return
// inside the line separates arguments too, as upstream splits them; in
// PUB and HPUB it is part of the subject. A line ended by a bare "\n"
// that holds a CR loses its last byte, as upstream's parser drops it
// ("SUB a 1\rZ\n" is "SUB a 1"). In the table, [x] is optional and
// <rq> is the reply/queue part of routed and leaf messages:
//
//	<rq> = nothing | <reply> | + <reply> <queue>... | "|" <queue>...
//
//	verb     roles          arguments
//	INFO     all            <json>           (the blank after INFO is optional)
//	CONNECT  client,route,leaf <json>        (the blank is optional)
//	PUB      client         <subject> [reply] <size>
//	HPUB     client         <subject> [reply] <hdr size> <total size>
//	SUB      client         <subject> [queue] <sid>
//	UNSUB    client         <sid> [max]
//	MSG      server         <subject> <sid> [reply] <size>
//	HMSG     server         <subject> <sid> [reply] <hdr size> <total size>
//	HMSG     route          [account] <subject> <rq> <hdr size> <total size>
//	HMSG     leaf           <subject> <rq> <hdr size> <total size>
//	PING     all            (anything up to the line end is ignored)
//	PONG     all            (likewise)
//	+OK      all            (likewise)
//	-ERR     all            '<text>'
//	RS+      route          [account] <subject> [<queue> <weight>]
//	RS-      route          [account] <subject> [<queue>]
//	RMSG     route          [account] <subject> <rq> <size>
//	LS+      route          <origin> [account] <subject> [<queue> <weight>]
//	LS-      route          [origin] [account] <subject> [<queue>]
//	LMSG     route          <origin> [account] <subject> <rq> <hdr size> <total size>
//	LS+      leaf           <subject> [<queue> <weight>]
//	LS-      leaf           <subject> [<queue>]
//	LMSG     leaf           <subject> <rq> <size>
//	A+       route          <account>
//	A-       route          <account>
//
// RoleRoute serves routes and gateways. The account of route operations
// is absent when the route is dedicated to one account (set
// Parser.PinnedAccount; Frame.Account then reports it). LS+, LS- and LMSG
// on a route carry the origin cluster of a leafnode's interest or message;
// LS- carries it only when the peer advertised "lnocu" (set
// Parser.LeafUnsubOrigin), and route LMSG always has a header size. A
// leafnode connection is bound to one account, so its operations carry
// none; leafnodes send messages with headers as HMSG, never LMSG.
//
// In <rq>, one argument is a reply; with two or more, the first must be
// "+" (a reply, then queue names) or "|" (queue names only). The queue
// names are reported in Frame.Queues.
//
// # Errors
//
// Parse returns the first error, wrapping one of the sentinels; after an
// error the parser returns it again until Reset. What upstream nats-server
// does for each, and what ClientText returns:
//
//	ErrUnknownOp       -ERR 'Unknown Protocol Operation', close
//	ErrMissingCRLF     -ERR 'Unknown Protocol Operation', close
//	ErrMaxControlLine  -ERR 'maximum control line exceeded', close
//	ErrMaxPayload      -ERR 'Maximum Payload Violation', close
//	ErrBadArgs         close without -ERR (ClientText returns "")
//
// Frames parsed before the error have already been handed to the Handler.
// The parser does not validate subjects, SIDs or JSON; that is the
// caller's job.
//
// # Compatibility
//
// The parser follows upstream nats-server's byte-level rules (see Wire
// format) with these deliberate differences:
//
//   - The control line limit is exact and applies to every line, whether
//     or not it spans reads; upstream checks only lines that span reads
//     (which, with its 512-byte first read buffer, includes any long
//     CONNECT). Routes and leafnodes get 16 times the limit, as upstream.
//   - MaxPayload applies to every message operation in every role.
//     Upstream does not limit RMSG/route HMSG and clients do not limit
//     MSG: set MaxPayload to -1 on those parsers to match.
//   - MaxPayload 0 means DefaultMaxPayload; a limit of zero bytes (what
//     upstream applies for a JWT payload limit of 0: empty messages
//     only) is MaxPayloadZero.
//   - Verbs are checked against the Role. Upstream parses "SUB"/"UNSUB"/
//     "MSG" from a route as RS+/RS-/RMSG and "RS+" from a leafnode as
//     LS+; these aliases, which no server sends, are unknown operations
//     here.
//   - "PUB \r\n" (a verb, blanks, nothing) is ErrBadArgs; upstream would
//     keep reading arguments on the next line, as it does whenever the
//     first byte after a verb and its blanks is an LF (a CR there is an
//     argument byte for upstream, and does not make a bare-LF line lose
//     its last byte).
//   - UNSUB with a max that is not a number reports Max 0; upstream
//     treats it as "unsubscribe now", the same as 0.
package protocol
