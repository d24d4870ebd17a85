package store_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"natsd.dev/jetstream/store"
)

// TestStreamStateJSON pins the upstream field names that monitoring and
// the stream info API render.
func TestStreamStateJSON(t *testing.T) {
	st := store.StreamState{
		Msgs: 3, Bytes: 99, FirstSeq: 2, LastSeq: 5,
		FirstTime:   time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		LastTime:    time.Date(2026, 1, 2, 3, 4, 6, 0, time.UTC),
		NumSubjects: 2, NumDeleted: 1, Consumers: 4,
		Lost: &store.LostData{Msgs: []uint64{7}, Bytes: 10},
	}
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	want := "bytes consumer_count first_seq first_ts last_seq last_ts lost messages num_deleted num_subjects"
	if got := strings.Join(keys, " "); got != want {
		t.Fatalf("JSON keys %q, want %q", got, want)
	}
	if m["first_ts"] != "2026-01-02T03:04:05Z" {
		t.Fatalf("first_ts %v", m["first_ts"])
	}
	var back store.StreamState
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Msgs != st.Msgs || !back.FirstTime.Equal(st.FirstTime) || back.Lost.Bytes != 10 {
		t.Fatalf("round trip %+v", back)
	}
}

func TestEnumStrings(t *testing.T) {
	if store.DiscardNew.String() != "new" || store.DiscardOld.String() != "old" {
		t.Fatal("DiscardPolicy.String")
	}
	if store.RemovedMaxAge.String() != "MaxAge" || store.RemovedTTL.String() != "TTL" {
		t.Fatal("RemoveReason.String")
	}
}

func TestStoredMsgSet(t *testing.T) {
	var m store.StoredMsg
	m.Set("a", nil, nil, 1, 2)
	if m.Hdr != nil || m.Data != nil || m.Subject != "a" || m.Seq != 1 || m.Time != 2 {
		t.Fatalf("empty Set: %+v", m)
	}
	hdr, data := []byte("hh"), []byte("ddd")
	m.Set("b", hdr, data, 3, 4)
	hdr[0], data[0] = 'X', 'Y'
	if string(m.Hdr) != "hh" || string(m.Data) != "ddd" {
		t.Fatalf("Set did not copy: %q %q", m.Hdr, m.Data)
	}
}
