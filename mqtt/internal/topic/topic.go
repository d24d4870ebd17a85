package topic

import "errors"

// Errors of the mapping.
var (
	// ErrInvalidTopic: the topic name is empty or holds a character or a
	// level that has no NATS subject (see the package doc), or a wildcard.
	ErrInvalidTopic = errors.New("topic: invalid topic name")
	// ErrInvalidFilter: the filter is empty, misplaces a wildcard, or holds
	// what a topic name may not.
	ErrInvalidFilter = errors.New("topic: invalid topic filter")
)

// AppendSubject appends the NATS subject of the MQTT topic name topic to
// dst. On error dst is returned as it was given.
func AppendSubject(dst, topic []byte) ([]byte, error) {
	if len(topic) == 0 {
		return dst, ErrInvalidTopic
	}
	out, ok := appendLevels(dst, topic, false)
	if !ok {
		return dst, ErrInvalidTopic
	}
	return out, nil
}

// FilterSubjects returns the NATS subjects a subscription on the MQTT
// filter must cover: one, or two for a filter ending in "/#", which also
// matches the parent level ("a/#" is "a" and "a.>").
func FilterSubjects(filter string) (subjects []string, err error) {
	if len(filter) == 0 {
		return nil, ErrInvalidFilter
	}
	for i := 0; i < len(filter); i++ {
		if filter[i] == '#' && i != len(filter)-1 {
			return nil, ErrInvalidFilter
		}
	}
	subj, ok := appendLevels(make([]byte, 0, len(filter)+8), []byte(filter), true)
	if !ok {
		return nil, ErrInvalidFilter
	}
	s := string(subj)
	if n := len(s); n > 2 && s[n-2:] == ".>" {
		return []string{s[:n-2], s}, nil
	}
	return []string{s}, nil
}

// appendLevels appends the tokens of the levels of t, with the wildcards
// '+' and '#' allowed as whole levels when filter is set.
func appendLevels(dst, t []byte, filter bool) ([]byte, bool) {
	start := 0
	for i := 0; i <= len(t); i++ {
		if i < len(t) && t[i] != '/' {
			continue
		}
		if start > 0 {
			dst = append(dst, '.')
		}
		level := t[start:i]
		start = i + 1
		switch {
		case len(level) == 0:
			dst = append(dst, '/')
			continue
		case len(level) == 1 && filter && level[0] == '+':
			dst = append(dst, '*')
			continue
		case len(level) == 1 && filter && level[0] == '#':
			dst = append(dst, '>')
			continue
		case len(level) == 1 && (level[0] == '*' || level[0] == '>'):
			return dst, false
		}
		for _, c := range level {
			switch {
			case c == '.':
				dst = append(dst, '/', '/')
			case c <= ' ' || c == 0x7f || c == '+' || c == '#':
				return dst, false
			default:
				dst = append(dst, c)
			}
		}
	}
	return dst, true
}

// AppendTopic appends the MQTT topic name of the NATS subject to dst: "//"
// is '.', '.' is '/', and any other '/' is dropped. It inverts
// AppendSubject.
func AppendTopic(dst, subject []byte) []byte {
	for i := 0; i < len(subject); i++ {
		switch c := subject[i]; c {
		case '/':
			if i+1 < len(subject) && subject[i+1] == '/' {
				dst = append(dst, '.')
				i++
			}
		case '.':
			dst = append(dst, '/')
		default:
			dst = append(dst, c)
		}
	}
	return dst
}
