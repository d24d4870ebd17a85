package protocol

import "strconv"

// The Append functions append one encoded operation, line end included, to
// dst and return the extended slice, like strconv.AppendInt. They never
// allocate when dst has room, and they do not validate their arguments:
// subjects, replies, SIDs and queue names must be non-empty and free of
// blanks and line ends, or the peer will misread the line. An empty
// (nil or zero length) optional argument is omitted.

const crlf = "\r\n"

func appendArg(dst, arg []byte) []byte {
	dst = append(dst, ' ')
	return append(dst, arg...)
}

func appendOptArg(dst, arg []byte) []byte {
	if len(arg) == 0 {
		return dst
	}
	dst = append(dst, ' ')
	return append(dst, arg...)
}

func appendInt(dst []byte, n int) []byte {
	dst = append(dst, ' ')
	return strconv.AppendInt(dst, int64(n), 10)
}

func appendPayload(dst, payload []byte) []byte {
	dst = append(dst, crlf...)
	dst = append(dst, payload...)
	return append(dst, crlf...)
}

// AppendInfo appends "INFO <json> \r\n", with the blank before the line
// end that upstream nats-server sends (parsers ignore it).
func AppendInfo(dst, json []byte) []byte {
	dst = append(dst, "INFO "...)
	dst = append(dst, json...)
	return append(dst, " \r\n"...)
}

// AppendConnect appends "CONNECT <json>\r\n".
func AppendConnect(dst, json []byte) []byte {
	dst = append(dst, "CONNECT "...)
	dst = append(dst, json...)
	return append(dst, crlf...)
}

// AppendPing appends "PING\r\n".
func AppendPing(dst []byte) []byte { return append(dst, "PING\r\n"...) }

// AppendPong appends "PONG\r\n".
func AppendPong(dst []byte) []byte { return append(dst, "PONG\r\n"...) }

// AppendOK appends "+OK\r\n".
func AppendOK(dst []byte) []byte { return append(dst, "+OK\r\n"...) }

// AppendErr appends "-ERR '<text>'\r\n".
func AppendErr(dst []byte, text string) []byte {
	dst = append(dst, "-ERR '"...)
	dst = append(dst, text...)
	return append(dst, "'\r\n"...)
}

// AppendPub appends "PUB <subject> [reply] <size>\r\n<payload>\r\n".
func AppendPub(dst, subject, reply, payload []byte) []byte {
	dst = append(dst, "PUB"...)
	dst = appendArg(dst, subject)
	dst = appendOptArg(dst, reply)
	dst = appendInt(dst, len(payload))
	return appendPayload(dst, payload)
}

// AppendHPub appends "HPUB <subject> [reply] <hdrLen> <size>\r\n<payload>\r\n";
// payload holds the hdrLen header bytes followed by the body.
func AppendHPub(dst, subject, reply []byte, hdrLen int, payload []byte) []byte {
	dst = append(dst, "HPUB"...)
	dst = appendArg(dst, subject)
	dst = appendOptArg(dst, reply)
	dst = appendInt(dst, hdrLen)
	dst = appendInt(dst, len(payload))
	return appendPayload(dst, payload)
}

// AppendSub appends "SUB <subject> [queue] <sid>\r\n".
func AppendSub(dst, subject, queue, sid []byte) []byte {
	dst = append(dst, "SUB"...)
	dst = appendArg(dst, subject)
	dst = appendOptArg(dst, queue)
	dst = appendArg(dst, sid)
	return append(dst, crlf...)
}

// AppendUnsub appends "UNSUB <sid> [max]\r\n"; max is omitted when <= 0.
func AppendUnsub(dst, sid []byte, max int64) []byte {
	dst = append(dst, "UNSUB"...)
	dst = appendArg(dst, sid)
	if max > 0 {
		dst = append(dst, ' ')
		dst = strconv.AppendInt(dst, max, 10)
	}
	return append(dst, crlf...)
}

// AppendMsgHeader appends only the control line
// "MSG <subject> <sid> [reply] <size>\r\n", for a writer that sends the
// payload and its "\r\n" itself.
func AppendMsgHeader(dst, subject, sid, reply []byte, size int) []byte {
	dst = append(dst, "MSG"...)
	dst = appendArg(dst, subject)
	dst = appendArg(dst, sid)
	dst = appendOptArg(dst, reply)
	dst = appendInt(dst, size)
	return append(dst, crlf...)
}

// AppendMsg appends "MSG <subject> <sid> [reply] <size>\r\n<payload>\r\n".
func AppendMsg(dst, subject, sid, reply, payload []byte) []byte {
	dst = AppendMsgHeader(dst, subject, sid, reply, len(payload))
	dst = append(dst, payload...)
	return append(dst, crlf...)
}

// AppendHMsgHeader appends only the control line
// "HMSG <subject> <sid> [reply] <hdrLen> <size>\r\n".
func AppendHMsgHeader(dst, subject, sid, reply []byte, hdrLen, size int) []byte {
	dst = append(dst, "HMSG"...)
	dst = appendArg(dst, subject)
	dst = appendArg(dst, sid)
	dst = appendOptArg(dst, reply)
	dst = appendInt(dst, hdrLen)
	dst = appendInt(dst, size)
	return append(dst, crlf...)
}

// AppendHMsg appends "HMSG <subject> <sid> [reply] <hdrLen> <size>\r\n<payload>\r\n";
// payload includes the headers.
func AppendHMsg(dst, subject, sid, reply []byte, hdrLen int, payload []byte) []byte {
	dst = AppendHMsgHeader(dst, subject, sid, reply, hdrLen, len(payload))
	dst = append(dst, payload...)
	return append(dst, crlf...)
}

// appendInterest appends "[origin] [account] <subject> [queue [weight]]\r\n";
// weight < 0 means no weight (unsubscriptions).
func appendInterest(dst, origin, account, subject, queue []byte, weight int32) []byte {
	dst = appendOptArg(dst, origin)
	dst = appendOptArg(dst, account)
	dst = appendArg(dst, subject)
	if len(queue) > 0 {
		dst = appendArg(dst, queue)
		if weight >= 0 {
			dst = append(dst, ' ')
			dst = strconv.AppendInt(dst, int64(weight), 10)
		}
	}
	return append(dst, crlf...)
}

// AppendRSub appends "RS+ <account> <subject> [<queue> <weight>]\r\n".
// The weight is written only with a queue. An empty account is omitted,
// for routes pinned to one account.
func AppendRSub(dst, account, subject, queue []byte, weight int32) []byte {
	dst = append(dst, "RS+"...)
	return appendInterest(dst, nil, account, subject, queue, max(weight, 0))
}

// AppendRUnsub appends "RS- <account> <subject> [<queue>]\r\n".
func AppendRUnsub(dst, account, subject, queue []byte) []byte {
	dst = append(dst, "RS-"...)
	return appendInterest(dst, nil, account, subject, queue, -1)
}

// AppendLSub appends the leafnode form "LS+ <subject> [<queue> <weight>]\r\n".
func AppendLSub(dst, subject, queue []byte, weight int32) []byte {
	dst = append(dst, "LS+"...)
	return appendInterest(dst, nil, nil, subject, queue, max(weight, 0))
}

// AppendLUnsub appends the leafnode form "LS- <subject> [<queue>]\r\n".
func AppendLUnsub(dst, subject, queue []byte) []byte {
	dst = append(dst, "LS-"...)
	return appendInterest(dst, nil, nil, subject, queue, -1)
}

// AppendRouteLSub appends the route form
// "LS+ <origin> <account> <subject> [<queue> <weight>]\r\n" that carries a
// leafnode subscription's origin cluster between routes.
func AppendRouteLSub(dst, origin, account, subject, queue []byte, weight int32) []byte {
	dst = append(dst, "LS+"...)
	return appendInterest(dst, origin, account, subject, queue, max(weight, 0))
}

// AppendRouteLUnsub appends the route form
// "LS- [origin] <account> <subject> [<queue>]\r\n"; pass a nil origin to
// a peer that did not advertise "lnocu".
func AppendRouteLUnsub(dst, origin, account, subject, queue []byte) []byte {
	dst = append(dst, "LS-"...)
	return appendInterest(dst, origin, account, subject, queue, -1)
}

// AppendASub appends "A+ <account>\r\n".
func AppendASub(dst, account []byte) []byte {
	dst = append(dst, "A+"...)
	dst = appendArg(dst, account)
	return append(dst, crlf...)
}

// AppendAUnsub appends "A- <account>\r\n".
func AppendAUnsub(dst, account []byte) []byte {
	dst = append(dst, "A-"...)
	dst = appendArg(dst, account)
	return append(dst, crlf...)
}

// appendReplyQueues appends the reply/queue middle of routed and leaf
// messages: " <reply>", " + <reply> <q>...", " | <q>..." or nothing.
func appendReplyQueues(dst, reply []byte, queues [][]byte) []byte {
	if len(queues) == 0 {
		return appendOptArg(dst, reply)
	}
	if len(reply) > 0 {
		dst = append(dst, " + "...)
		dst = append(dst, reply...)
	} else {
		dst = append(dst, " |"...)
	}
	for _, q := range queues {
		dst = appendArg(dst, q)
	}
	return dst
}

// appendRouted appends the arguments and line end of a routed message.
func appendRouted(dst, origin, account, subject, reply []byte, queues [][]byte, hdrLen, size int) []byte {
	dst = appendOptArg(dst, origin)
	dst = appendOptArg(dst, account)
	dst = appendArg(dst, subject)
	dst = appendReplyQueues(dst, reply, queues)
	if hdrLen >= 0 {
		dst = appendInt(dst, hdrLen)
	}
	dst = appendInt(dst, size)
	return append(dst, crlf...)
}

// AppendRMsgHeader appends only the control line
// "RMSG <account> <subject> [<reply> | + <reply> <queues...> | | <queues...>] <size>\r\n".
// An empty account is omitted, for routes pinned to one account.
func AppendRMsgHeader(dst, account, subject, reply []byte, queues [][]byte, size int) []byte {
	dst = append(dst, "RMSG"...)
	return appendRouted(dst, nil, account, subject, reply, queues, -1, size)
}

// AppendRMsg appends an RMSG control line, the payload and "\r\n".
func AppendRMsg(dst, account, subject, reply []byte, queues [][]byte, payload []byte) []byte {
	dst = AppendRMsgHeader(dst, account, subject, reply, queues, len(payload))
	dst = append(dst, payload...)
	return append(dst, crlf...)
}

// AppendRHMsgHeader appends only the control line of a routed message
// with headers: "HMSG <account> <subject> [reply/queues] <hdrLen> <size>\r\n".
func AppendRHMsgHeader(dst, account, subject, reply []byte, queues [][]byte, hdrLen, size int) []byte {
	dst = append(dst, "HMSG"...)
	return appendRouted(dst, nil, account, subject, reply, queues, hdrLen, size)
}

// AppendRHMsg appends a routed HMSG (the header variant of RMSG), the
// payload (headers included) and "\r\n".
func AppendRHMsg(dst, account, subject, reply []byte, queues [][]byte, hdrLen int, payload []byte) []byte {
	dst = AppendRHMsgHeader(dst, account, subject, reply, queues, hdrLen, len(payload))
	dst = append(dst, payload...)
	return append(dst, crlf...)
}

// AppendLMsgHeader appends only the control line of a leafnode message:
// "LMSG <subject> [<reply> | + <reply> <queues...> | | <queues...>] <size>\r\n".
func AppendLMsgHeader(dst, subject, reply []byte, queues [][]byte, size int) []byte {
	dst = append(dst, "LMSG"...)
	return appendRouted(dst, nil, nil, subject, reply, queues, -1, size)
}

// AppendLMsg appends a leafnode LMSG control line, the payload and "\r\n".
func AppendLMsg(dst, subject, reply []byte, queues [][]byte, payload []byte) []byte {
	dst = AppendLMsgHeader(dst, subject, reply, queues, len(payload))
	dst = append(dst, payload...)
	return append(dst, crlf...)
}

// AppendLHMsgHeader appends only the control line of a leafnode message
// with headers: "HMSG <subject> [reply/queues] <hdrLen> <size>\r\n".
func AppendLHMsgHeader(dst, subject, reply []byte, queues [][]byte, hdrLen, size int) []byte {
	dst = append(dst, "HMSG"...)
	return appendRouted(dst, nil, nil, subject, reply, queues, hdrLen, size)
}

// AppendLHMsg appends a leafnode HMSG, the payload (headers included) and
// "\r\n".
func AppendLHMsg(dst, subject, reply []byte, queues [][]byte, hdrLen int, payload []byte) []byte {
	dst = AppendLHMsgHeader(dst, subject, reply, queues, hdrLen, len(payload))
	dst = append(dst, payload...)
	return append(dst, crlf...)
}

// AppendRouteLMsgHeader appends only the control line of an LMSG sent over
// a route for a message that came from a leafnode:
// "LMSG <origin> <account> <subject> [reply/queues] <hdrLen> <size>\r\n".
// This form always carries a header size (0 when there are no headers).
func AppendRouteLMsgHeader(dst, origin, account, subject, reply []byte, queues [][]byte, hdrLen, size int) []byte {
	dst = append(dst, "LMSG"...)
	return appendRouted(dst, origin, account, subject, reply, queues, max(hdrLen, 0), size)
}

// AppendRouteLMsg appends a route LMSG (see AppendRouteLMsgHeader), the
// payload and "\r\n".
func AppendRouteLMsg(dst, origin, account, subject, reply []byte, queues [][]byte, hdrLen int, payload []byte) []byte {
	dst = AppendRouteLMsgHeader(dst, origin, account, subject, reply, queues, hdrLen, len(payload))
	dst = append(dst, payload...)
	return append(dst, crlf...)
}
