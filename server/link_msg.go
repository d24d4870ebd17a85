package server

// WriteMsg queues one message for the peer, outside any interest the peer
// registered: the link's encoder writes it (RMSG/HMSG for a route), with
// the account left out on a link dedicated to one account
// (SetPinnedAccount) and the headers stripped when the peer does not take
// them (SetHeaders). hdrLen is the header length at the start of payload,
// -1 without headers. A gateway uses it to hand a mapped reply to the
// route of the server it names, as upstream does. The slices are copied.
func (l *Link) WriteMsg(account, subject, reply []byte, hdrLen int, payload []byte) error {
	c := l.c
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ErrLinkClosed
	}
	if hdrLen >= 0 && !c.headers {
		payload, hdrLen = payload[hdrLen:], -1
	}
	if c.pinnedLink {
		account = nil
	}
	// The header is written in place in the outbound buffer, as
	// deliverRoute does.
	need := len(account) + len(subject) + len(reply) + LinkMsgOverhead
	b := c.out.room(need)
	long := b == nil
	if long {
		b = make([]byte, 0, need)
	}
	b = l.enc.AppendMsgHeader(b, account, subject, reply, nil, hdrLen, len(payload))
	if long {
		c.out.write(b)
	} else {
		c.out.grew(b)
	}
	c.out.write(payload)
	c.out.write(crlf)
	c.outMsgs++
	c.outBytes += int64(len(payload))
	c.mu.Unlock()
	c.signal()
	return nil
}
