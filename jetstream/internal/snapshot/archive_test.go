package snapshot_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"reflect"
	"testing"
	"time"

	"natsd.dev/jetstream/api"
	"natsd.dev/jetstream/internal/snapshot"
)

// sample writes a small valid archive (uncompressed).
func sample(tb testing.TB) []byte {
	tb.Helper()
	var buf bytes.Buffer
	w := snapshot.NewWriter(&buf)
	st := &api.StreamState{Msgs: 2, Bytes: 10, FirstSeq: 3, LastSeq: 6, Consumers: 1,
		FirstTime: time.Unix(1, 0).UTC(), LastTime: time.Unix(2, 0).UTC()}
	must(tb, w.WriteState(time.Now().UnixNano(), st))
	must(tb, w.WriteEntry(snapshot.Header{Name: "consumers/C1"}, nil, []byte(`{"config":{"name":"C1"},"state":{}}`)))
	must(tb, w.WriteMsg("a.b", 3, 100, nil, []byte("one")))
	must(tb, w.WriteMsg("a.c", 5, -7, []byte("NATS/1.0\r\nX: y\r\n\r\n"), []byte("two")))
	must(tb, w.WriteEnd())
	return buf.Bytes()
}

func must(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

// decodeAll returns the items of an uncompressed archive (views copied).
func decodeAll(b []byte) ([]snapshot.Item, error) {
	d := snapshot.NewDecoder(snapshot.NewReader(bytes.NewReader(b)), 1<<20)
	var out []snapshot.Item
	for {
		it, err := d.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		it.Hdr, it.Data, it.Meta = bytes.Clone(it.Hdr), bytes.Clone(it.Data), bytes.Clone(it.Meta)
		out = append(out, it)
	}
}

// encodeAll writes items back as an archive.
func encodeAll(tb testing.TB, items []snapshot.Item) []byte {
	var buf bytes.Buffer
	w := snapshot.NewWriter(&buf)
	for _, it := range items {
		switch it.Kind {
		case snapshot.KindState:
			must(tb, w.WriteEntry(snapshot.Header{Name: snapshot.StateEntry}, nil, it.Meta))
		case snapshot.KindConsumer:
			must(tb, w.WriteEntry(snapshot.Header{Name: snapshot.ConsumerPrefix + it.Name}, nil, it.Meta))
		case snapshot.KindMsg:
			must(tb, w.WriteMsg(it.Subject, it.Seq, it.Time, it.Hdr, it.Data))
		case snapshot.KindEnd:
			must(tb, w.WriteEnd())
		}
	}
	return buf.Bytes()
}

func TestRoundTrip(t *testing.T) {
	items, err := decodeAll(sample(t))
	if err != nil {
		t.Fatal(err)
	}
	kinds := []snapshot.Kind{snapshot.KindState, snapshot.KindConsumer, snapshot.KindMsg, snapshot.KindMsg, snapshot.KindEnd}
	if len(items) != len(kinds) {
		t.Fatalf("%d items", len(items))
	}
	for i, k := range kinds {
		if items[i].Kind != k {
			t.Fatalf("item %d kind %d", i, items[i].Kind)
		}
	}
	if m := items[3]; m.Subject != "a.c" || m.Seq != 5 || m.Time != -7 || string(m.Data) != "two" || string(m.Hdr) != "NATS/1.0\r\nX: y\r\n\r\n" {
		t.Fatalf("msg %+v", m)
	}
	if items[0].State.FirstSeq != 3 || items[1].Name != "C1" {
		t.Fatalf("%+v", items[:2])
	}
}

func TestCompressed(t *testing.T) {
	var buf bytes.Buffer
	w, c := snapshot.Create(&buf)
	must(t, w.WriteState(1, &api.StreamState{}))
	must(t, w.WriteEnd())
	must(t, c.Close())
	d := snapshot.NewDecoder(snapshot.Open(&buf), 1<<20)
	for _, k := range []snapshot.Kind{snapshot.KindState, snapshot.KindEnd} {
		it, err := d.Next()
		if err != nil || it.Kind != k {
			t.Fatalf("%v %v", it.Kind, err)
		}
	}
	if _, err := d.Next(); !errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
}

func TestInvalid(t *testing.T) {
	good := sample(t)
	entry := func(name string, seq uint64, data string) []byte {
		var b bytes.Buffer
		w := snapshot.NewWriter(&b)
		must(t, w.WriteEntry(snapshot.Header{Name: name, Sequence: seq}, nil, []byte(data)))
		return b.Bytes()[len(snapshot.Magic):]
	}
	state := `{"messages":1,"bytes":1,"first_seq":1,"last_seq":3,"consumer_count":0}`
	build := func(parts ...[]byte) []byte {
		return append([]byte(snapshot.Magic), bytes.Join(parts, nil)...)
	}
	end := entry("", 0, "")
	cases := map[string][]byte{
		"empty":            nil,
		"bad magic":        []byte("NATSARC0"),
		"magic only":       []byte(snapshot.Magic),
		"truncated":        good[:len(good)-1],
		"no sentinel":      good[:len(good)-len(end)],
		"after sentinel":   append(bytes.Clone(good), end...),
		"state not first":  build(entry("a", 1, "x"), end),
		"bad state json":   build(entry(snapshot.StateEntry, 0, "{"), end),
		"neg consumers":    build(entry(snapshot.StateEntry, 0, `{"consumer_count":-1}`), end),
		"bad range":        build(entry(snapshot.StateEntry, 0, `{"messages":5,"first_seq":3,"last_seq":4}`), end),
		"empty not next":   build(entry(snapshot.StateEntry, 0, `{"messages":0,"first_seq":3,"last_seq":4}`), end),
		"missing consumer": build(entry(snapshot.StateEntry, 0, `{"consumer_count":1}`), end),
		"traversal":        build(entry(snapshot.StateEntry, 0, `{"consumer_count":1}`), entry("consumers/../../evil", 0, `{"config":{},"state":{}}`), end),
		"consumer no cfg":  build(entry(snapshot.StateEntry, 0, `{"consumer_count":1}`), entry("consumers/C", 0, `{"state":{}}`), end),
		"seq zero":         build(entry(snapshot.StateEntry, 0, state), entry("a", 0, "x"), end),
		"seq past last":    build(entry(snapshot.StateEntry, 0, state), entry("a", 4, "x"), end),
		"seq backwards":    build(entry(snapshot.StateEntry, 0, state), entry("a", 2, "x"), entry("a", 2, "x"), end),
		"bad subject":      build(entry(snapshot.StateEntry, 0, state), entry("a.*", 1, "x"), end),
		"varint overflow":  build(bytes.Repeat([]byte{0xff}, 11)),
		"huge name":        build(binary.AppendUvarint(nil, 1<<40)),
		"huge payload":     build(binary.AppendUvarint([]byte{1, 0, 0, 0}, 1<<62), []byte("x")),
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := decodeAll(b)
			if !errors.Is(err, snapshot.ErrInvalid) && !errors.Is(err, snapshot.ErrNotArchive) {
				t.Fatalf("got %v", err)
			}
		})
	}
}

func TestNotArchive(t *testing.T) {
	// A legacy backup holds a tar where the magic should be.
	var raw bytes.Buffer
	raw.WriteString("evil.tar")
	raw.Write(make([]byte, 600))
	if _, _, err := snapshot.NewReader(&raw).Next(1 << 20); !errors.Is(err, snapshot.ErrNotArchive) {
		t.Fatal(err)
	}
	if _, _, err := snapshot.Open(bytes.NewReader([]byte("not s2 at all, just bytes"))).Next(1 << 20); !errors.Is(err, snapshot.ErrInvalid) {
		t.Fatalf("garbage: %v", err)
	}
}

func FuzzDecoder(f *testing.F) {
	f.Add(sample(f))
	f.Add([]byte(snapshot.Magic))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		items, err := decodeAll(b)
		if err != nil {
			if !errors.Is(err, snapshot.ErrInvalid) && !errors.Is(err, snapshot.ErrNotArchive) {
				t.Fatalf("unmarked error %v", err)
			}
			return
		}
		// Round trip: what decoded re-encodes to an archive that decodes
		// to the same items.
		again, err := decodeAll(encodeAll(t, items))
		if err != nil {
			t.Fatalf("re-encoded archive refused: %v", err)
		}
		if !reflect.DeepEqual(items, again) {
			t.Fatalf("round trip differs:\n%+v\n%+v", items, again)
		}
	})
}
