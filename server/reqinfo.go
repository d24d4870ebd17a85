package server

import (
	"bytes"
	"strings"
)

// requestInfoHeader is the header upstream's service imports set on a
// request to tell the exporting account who asked. natsd does not set it,
// and no requester may set it either: a service that trusts it, as
// upstream's clients may, must never see a value the requester wrote
// (CVE-2026-33223, GHSA-pwx7-fx9r-hr4h).
const requestInfoHeader = "Nats-Request-Info"

// stripRequestInfo returns the message (hdrLen header bytes, then the
// body) without its Nats-Request-Info header lines, matched by name
// case-insensitively. It copies only when there is such a line, so an
// ordinary request costs one scan of its header and no allocation.
func stripRequestInfo(hdrLen int, payload []byte) (int, []byte) {
	if hdrLen <= 0 || hdrLen > len(payload) {
		return hdrLen, payload
	}
	hdr := payload[:hdrLen]
	if !hasRequestInfo(hdr) {
		return hdrLen, payload
	}
	out := make([]byte, 0, len(payload))
	for i, line := range bytes.SplitAfter(hdr, []byte("\r\n")) {
		if i > 0 && isRequestInfoLine(line) {
			continue
		}
		out = append(out, line...)
	}
	n := len(out)
	return n, append(out, payload[hdrLen:]...)
}

// hasRequestInfo reports whether a header line after the status line of
// hdr is a Nats-Request-Info one.
func hasRequestInfo(hdr []byte) bool {
	_, rest, ok := bytes.Cut(hdr, []byte("\r\n"))
	for ok {
		var line []byte
		line, rest, ok = bytes.Cut(rest, []byte("\r\n"))
		if isRequestInfoLine(line) {
			return true
		}
	}
	return false
}

func isRequestInfoLine(line []byte) bool {
	name, _, ok := bytes.Cut(line, []byte(":"))
	return ok && strings.EqualFold(string(bytes.TrimSpace(name)), requestInfoHeader)
}
