package protocol_test

import (
	"fmt"
	"strings"

	"natsd.dev/protocol"
)

// frameString renders a frame with every field, so frames can be compared
// as strings and shown in failures.
func frameString(f *protocol.Frame) string {
	var b strings.Builder
	b.WriteString(f.Op.String())
	field := func(name string, v []byte) {
		if v != nil {
			fmt.Fprintf(&b, " %s=%q", name, v)
		}
	}
	field("acc", f.Account)
	field("origin", f.Origin)
	field("subj", f.Subject)
	field("reply", f.Reply)
	field("queue", f.Queue)
	if f.Queues != nil {
		fmt.Fprintf(&b, " queues=%q", f.Queues)
	}
	field("sid", f.SID)
	if f.Weight != 0 {
		fmt.Fprintf(&b, " w=%d", f.Weight)
	}
	if f.Max != 0 {
		fmt.Fprintf(&b, " max=%d", f.Max)
	}
	if f.HeaderLen != -1 {
		fmt.Fprintf(&b, " hdr=%d", f.HeaderLen)
	}
	field("payload", f.Payload)
	field("arg", f.Arg)
	return b.String()
}

// recorder collects the frames it is handed as strings.
type recorder struct{ frames []string }

func (r *recorder) HandleFrame(f *protocol.Frame) error {
	r.frames = append(r.frames, frameString(f))
	return nil
}

// parseAll parses chunks in order with a fresh parser configured by cfg
// and returns the frames and the first error.
func parseAll(cfg protocol.Parser, chunks ...[]byte) ([]string, error) {
	p := cfg
	var r recorder
	for _, c := range chunks {
		if err := p.Parse(c, &r); err != nil {
			return r.frames, err
		}
	}
	return r.frames, nil
}

// lineRecorder is a recorder that is also a LineHandler: a message's
// control line is recorded as "LINE <frame>" when HandleLine gets it.
type lineRecorder struct{ recorder }

func (r *lineRecorder) HandleLine(f *protocol.Frame) error {
	if f.Payload != nil {
		return fmt.Errorf("HandleLine got a payload: %s", frameString(f))
	}
	r.frames = append(r.frames, "LINE "+frameString(f))
	return nil
}

// parseAllLines is parseAll with a lineRecorder.
func parseAllLines(cfg protocol.Parser, chunks ...[]byte) ([]string, error) {
	p := cfg
	var r lineRecorder
	for _, c := range chunks {
		if err := p.Parse(c, &r); err != nil {
			return r.frames, err
		}
	}
	return r.frames, nil
}
