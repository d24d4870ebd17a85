package stream

import (
	"encoding/json"
	"math/big"
	"strconv"

	"natsd.dev/jetstream/api"
	"natsd.dev/jetstream/internal/hdr"
)

// counterValue is the body of a stored counter message (ADR-49). The value
// is a decimal string so that any client reads big totals exactly.
type counterValue struct {
	Value string `json:"val"`
}

// counterForbidden reports whether h holds a header a counter increment
// may not carry: a rollup or any expectation (ADR-49).
func counterForbidden(h []byte) bool {
	for _, k := range []string{hdr.Rollup, hdr.ExpectedStream, hdr.ExpectedLastMsgID, hdr.ExpectedLastSubj, hdr.ExpectedLastSeq, hdr.ExpectedLastSubSeq} {
		if len(hdr.Get(h, k)) > 0 {
			return true
		}
	}
	return false
}

// countLocked applies the increment of m to its subject's counter: the
// total of the subject's last message (or of the batch's earlier
// messages) plus incr becomes m's body, {"val":"<total>"}. The last
// message's Nats-Counter-Sources header, if any, is carried over so that
// sourcing state is never lost.
func (s *Stream) countLocked(m *msgIn, incr *big.Int, d *batchDiff) *api.Error {
	total := new(big.Int)
	var sources []byte
	if prev, ok := d.counter(m.subject); ok {
		total.Set(prev)
	} else if err := s.st.LoadLastMsg(m.subject, &s.scratch); err == nil {
		var cv counterValue
		if json.Unmarshal(s.scratch.Data, &cv) != nil {
			return api.ErrMessageCounterBroken
		}
		if _, ok := total.SetString(cv.Value, 10); !ok {
			return api.ErrMessageCounterBroken
		}
		if v := hdr.Get(s.scratch.Hdr, HdrCounterSources); len(v) > 0 && len(hdr.Get(m.hdr, HdrCounterSources)) == 0 {
			sources = append([]byte(nil), v...)
		}
	}
	total.Add(total, incr)
	val := total.String()
	m.data = strconv.AppendQuote([]byte(`{"val":`), val)
	m.data = append(m.data, '}')
	if sources != nil {
		m.hdr = hdr.NewBuilder(nil, 0, "").AddFrom(m.hdr).Add(HdrCounterSources, string(sources)).Bytes()
	}
	if mx := s.cfg.MaxMsgSize; mx > 0 && len(m.hdr)+len(m.data) > int(mx) {
		return api.ErrStreamMessageExceedsMaximum
	}
	m.val = val
	if d != nil {
		if d.counters == nil {
			d.counters = make(map[string]*big.Int)
		}
		d.counters[m.subject] = total
	}
	return nil
}

// counter returns the running total of subject within the batch.
func (d *batchDiff) counter(subject string) (*big.Int, bool) {
	if d == nil {
		return nil, false
	}
	v, ok := d.counters[subject]
	return v, ok
}
