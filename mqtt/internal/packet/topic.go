package packet

// ValidTopicName reports whether t may be the topic of a PUBLISH or will
// message in natsd: a non-empty MQTT string of at most 65535 bytes without
// the wildcards '+' and '#', and, stricter than the specification, without
// control characters (U+0000 to U+001F and U+007F) or spaces, which cannot
// be carried in a NATS subject.
func ValidTopicName(t []byte) bool {
	if len(t) == 0 || len(t) > 0xffff || !validString(t) {
		return false
	}
	for _, c := range t {
		if c == '+' || c == '#' || forbidden(c) {
			return false
		}
	}
	return true
}

// ValidTopicFilter reports whether f may be the filter of a subscription:
// a non-empty MQTT string of at most 65535 bytes where '#' only stands
// alone as the last level and '+' only alone in its level, with the same
// characters refused as in ValidTopicName.
func ValidTopicFilter(f string) bool {
	if len(f) == 0 || len(f) > 0xffff || !validString([]byte(f)) {
		return false
	}
	for i := 0; i < len(f); i++ {
		c := f[i]
		if forbidden(c) {
			return false
		}
		alone := (i == 0 || f[i-1] == '/') && (i == len(f)-1 || f[i+1] == '/')
		switch c {
		case '+':
			if !alone {
				return false
			}
		case '#':
			if !alone || i != len(f)-1 {
				return false
			}
		}
	}
	return true
}

// forbidden reports bytes natsd refuses in topics: C0 controls, space and
// DEL (tab, CR and LF are among the controls).
func forbidden(c byte) bool { return c <= ' ' || c == 0x7f }

// hasWildcard reports whether a topic name holds '+' or '#'.
func hasWildcard(t []byte) bool {
	for _, c := range t {
		if c == '+' || c == '#' {
			return true
		}
	}
	return false
}
