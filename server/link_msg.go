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
	var buf [256]byte
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
	b := l.enc.AppendMsgHeader(buf[:0], account, subject, reply, nil, hdrLen, len(payload))
	c.out.write(b)
	c.out.write(payload)
	c.out.write(crlf)
	c.outMsgs++
	c.outBytes += int64(len(payload))
	c.mu.Unlock()
	c.signal()
	return nil
}
