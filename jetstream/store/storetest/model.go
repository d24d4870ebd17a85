package storetest

import (
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"natsd.dev/jetstream/store"
	"natsd.dev/sublist"
)

func init() {
	register(test{"Model", testModel})
}

// model is a deliberately naive reference implementation of the sequence
// bookkeeping of a store without limits.
type model struct {
	msgs        map[uint64]string // seq -> subject
	first, last uint64
	bytes       map[uint64]uint64
}

func (m *model) fix() {
	if len(m.msgs) > 0 {
		m.first = slices.Min(slices.Collect(maps.Keys(m.msgs)))
	} else if m.first != 0 || m.last != 0 {
		m.first = m.last + 1
	}
}

func (m *model) del(seq uint64) {
	delete(m.msgs, seq)
	delete(m.bytes, seq)
}

func (m *model) matching(filter string) []uint64 {
	var out []uint64
	for seq, subj := range m.msgs {
		if filter == "" || sublist.SubjectMatchesFilter(subj, filter) {
			out = append(out, seq)
		}
	}
	slices.Sort(out)
	return out
}

func (m *model) state() counts {
	c := counts{Msgs: uint64(len(m.msgs)), First: m.first, Last: m.last}
	subjects := map[string]bool{}
	for _, s := range m.msgs {
		subjects[s] = true
	}
	c.NumSubjects = len(subjects)
	if len(m.msgs) > 0 {
		c.NumDeleted = int(m.last-m.first+1) - len(m.msgs)
	}
	return c
}

// testModel runs random operations against the store and the model and
// compares every answer.
func testModel(t *testing.T, open OpenFunc) {
	ops := 3000
	if testing.Short() {
		ops = 500
	}
	r := rand.New(rand.NewPCG(7, 11))
	s := newStore(t, open, store.Config{})
	m := &model{msgs: map[uint64]string{}, bytes: map[uint64]uint64{}}
	first := []string{"a", "b", "c", "d"}
	randSubj := func() string {
		parts := []string{first[r.IntN(len(first))], fmt.Sprint(r.IntN(12))}
		if r.IntN(3) == 0 {
			parts = append(parts, fmt.Sprint(r.IntN(3)))
		}
		return strings.Join(parts, ".")
	}
	randFilter := func() string {
		switch r.IntN(9) {
		case 0:
			return ""
		case 1:
			return ">"
		case 2:
			return first[r.IntN(len(first))] + ".*"
		case 3:
			return first[r.IntN(len(first))] + ".>"
		case 4:
			return "*." + fmt.Sprint(r.IntN(12))
		case 5:
			return "*.*.*"
		case 6:
			// Sparse wildcards: matches are far apart, so stores that
			// scan briefly and then use an index take the index path.
			if r.IntN(2) == 0 {
				return fmt.Sprintf("%s.%d.*", first[r.IntN(len(first))], r.IntN(12))
			}
			return fmt.Sprintf("*.%d.%d", r.IntN(12), r.IntN(3))
		}
		return randSubj()
	}
	randSeq := func() uint64 { return uint64(r.IntN(int(m.last) + 3)) }
	var sm store.StoredMsg
	for i := range ops {
		var what string
		switch op := r.IntN(100); {
		case op < 60:
			subj := randSubj()
			what = "StoreMsg " + subj
			seq, err := s.StoreMsg(subj, nil, []byte(subj), 0, 0)
			noErr(t, what, err)
			if seq != m.last+1 {
				t.Fatalf("op %d %s: seq %d, want %d", i, what, seq, m.last+1)
			}
			if len(m.msgs) == 0 {
				m.first = seq
			}
			m.last = seq
			m.msgs[seq] = subj
			m.bytes[seq] = store.MsgSize(subj, nil, []byte(subj))
		case op < 75:
			seq := randSeq()
			if r.IntN(2) == 0 && len(m.msgs) > 0 {
				seq = m.first
			}
			what = fmt.Sprint("RemoveMsg ", seq)
			err := s.RemoveMsg(seq)
			if _, ok := m.msgs[seq]; ok {
				noErr(t, what, err)
				m.del(seq)
				m.fix()
			} else {
				wantErr(t, what, err, store.ErrMsgNotFound)
			}
		case op < 85:
			req := store.PurgeRequest{}
			if r.IntN(3) > 0 {
				req.Filter = randFilter()
			}
			switch r.IntN(3) {
			case 0:
				req.Seq = randSeq()
			case 1:
				req.Keep = uint64(r.IntN(5))
			}
			what = fmt.Sprintf("Purge %+v", req)
			n, err := s.Purge(req)
			noErr(t, what, err)
			want := uint64(0)
			switch {
			case (req.Filter == "" || req.Filter == ">") && req.Seq != 0:
				want = m.compact(req.Seq)
			default:
				victims := m.matching(req.Filter)
				if req.Seq != 0 {
					victims = slices.DeleteFunc(victims, func(q uint64) bool { return q >= req.Seq })
				}
				if req.Keep != 0 {
					victims = victims[:max(0, len(victims)-int(req.Keep))]
				}
				for _, q := range victims {
					m.del(q)
				}
				want = uint64(len(victims))
				m.fix()
			}
			if n != want {
				t.Fatalf("op %d %s: purged %d, want %d", i, what, n, want)
			}
		case op < 90:
			seq := randSeq()
			if r.IntN(10) == 0 {
				seq += 5
			}
			what = fmt.Sprint("Compact ", seq)
			n, err := s.Compact(seq)
			noErr(t, what, err)
			if want := m.compact(seq); n != want {
				t.Fatalf("op %d %s: removed %d, want %d", i, what, n, want)
			}
		case op < 93:
			seq := uint64(0)
			if m.last > 3 {
				seq = m.last - uint64(r.IntN(4))
			}
			what = fmt.Sprint("Truncate ", seq)
			noErr(t, what, s.Truncate(seq))
			if seq < m.last {
				for q := range m.msgs {
					if q > seq {
						m.del(q)
					}
				}
				m.last = seq
				m.fix()
			}
		case op < 97:
			seq, n := m.last+1, uint64(1+r.IntN(3))
			switch r.IntN(8) {
			case 0, 1:
				n = uint64(64 + r.IntN(200)) // long enough for a store to keep it as a range
			case 2:
				n = 1 << 32
			case 3:
				seq = m.last + uint64(r.IntN(2))*2 // LastSeq or LastSeq+2: refused
			}
			what = fmt.Sprintf("SkipMsgs %d %d", seq, n)
			err := s.SkipMsgs(seq, n)
			if seq != m.last+1 {
				wantErr(t, what, err, store.ErrSequenceMismatch)
				break
			}
			noErr(t, what, err)
			m.last += n
			m.fix()
		default:
			what = "EraseMsg"
			if len(m.msgs) > 0 {
				seq := m.matching("")[r.IntN(len(m.msgs))]
				noErr(t, what, s.EraseMsg(seq))
				m.del(seq)
				m.fix()
			}
		}

		st := s.State()
		got := counts{st.Msgs, st.FirstSeq, st.LastSeq, st.NumDeleted, st.NumSubjects}
		if want := m.state(); got != want {
			t.Fatalf("op %d %s: State %+v, want %+v", i, what, got, want)
		}
		var bytes uint64
		for _, b := range m.bytes {
			bytes += b
		}
		if st.Bytes != bytes {
			t.Fatalf("op %d %s: Bytes %d, want %d", i, what, st.Bytes, bytes)
		}

		// Queries.
		for range 3 {
			filter, start := randFilter(), randSeq()
			match := m.matching(filter)
			from := slices.DeleteFunc(slices.Clone(match), func(q uint64) bool { return q < start })
			err := s.LoadNextMsg(filter, start, &sm)
			if len(from) == 0 {
				wantErr(t, "LoadNextMsg", err, store.ErrMsgNotFound)
			} else {
				noErr(t, "LoadNextMsg", err)
				if sm.Seq != from[0] || sm.Subject != m.msgs[from[0]] || string(sm.Data) != sm.Subject {
					t.Fatalf("op %d: LoadNextMsg(%q, %d) = %d %q, want %d", i, filter, start, sm.Seq, sm.Subject, from[0])
				}
			}
			err = s.LoadLastMsg(filter, &sm)
			if len(match) == 0 {
				wantErr(t, "LoadLastMsg", err, store.ErrMsgNotFound)
			} else if noErr(t, "LoadLastMsg", err); sm.Seq != match[len(match)-1] {
				t.Fatalf("op %d: LoadLastMsg(%q) = %d, want %d", i, filter, sm.Seq, match[len(match)-1])
			}
			fs, err := s.FilteredState(filter, start)
			noErr(t, "FilteredState", err)
			want := store.FilteredState{Msgs: uint64(len(from))}
			if len(from) > 0 {
				want.First, want.Last = from[0], from[len(from)-1]
			}
			if fs != want {
				t.Fatalf("op %d: FilteredState(%q, %d) = %+v, want %+v", i, filter, start, fs, want)
			}
			tot, err := s.SubjectsTotals(filter)
			noErr(t, "SubjectsTotals", err)
			wantTot := map[string]uint64{}
			for _, q := range match {
				wantTot[m.msgs[q]]++
			}
			if fmt.Sprint(tot) != fmt.Sprint(wantTot) {
				t.Fatalf("op %d: SubjectsTotals(%q) = %v, want %v", i, filter, tot, wantTot)
			}
		}
		seq := randSeq()
		err := s.LoadMsg(seq, &sm)
		if subj, ok := m.msgs[seq]; ok {
			noErr(t, "LoadMsg", err)
			if sm.Subject != subj {
				t.Fatalf("LoadMsg(%d) subject %q, want %q", seq, sm.Subject, subj)
			}
		} else if !errors.Is(err, store.ErrMsgNotFound) {
			t.Fatalf("LoadMsg(%d) of missing message: %v", seq, err)
		}
	}
}

func (m *model) compact(seq uint64) uint64 {
	if seq <= 1 || (len(m.msgs) > 0 && seq <= m.first) {
		return 0
	}
	if seq > m.last {
		if len(m.msgs) == 0 && seq == m.last+1 {
			return 0
		}
		n := uint64(len(m.msgs))
		clear(m.msgs)
		clear(m.bytes)
		m.first, m.last = seq, seq-1
		return n
	}
	var n uint64
	for q := range m.msgs {
		if q < seq {
			m.del(q)
			n++
		}
	}
	m.fix()
	return n
}
