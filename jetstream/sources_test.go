package jetstream_test

import (
	"strings"
	"testing"

	njs "github.com/nats-io/nats.go/jetstream"

	"natsd.dev/jetstream"
	"natsd.dev/server/servertest"
)

// TestMirrorKeepsSequences fills an origin with a gap, mirrors it and
// checks that the mirror holds the same messages at the same sequences,
// then follows new messages.
func TestMirrorKeepsSequences(t *testing.T) {
	s, _ := startJS(t, jetstream.Options{})
	nc := servertest.Connect(t, s)
	js, _ := njs.New(nc)
	c := ctx(t)
	origin, err := js.CreateStream(c, njs.StreamConfig{Name: "O", Subjects: []string{"o.>"}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		if _, err := js.Publish(c, "o."+string(rune('a'+i%3)), []byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	for seq := uint64(5); seq <= 9; seq++ {
		if err := origin.DeleteMsg(c, seq); err != nil {
			t.Fatal(err)
		}
	}
	m, err := js.CreateStream(c, njs.StreamConfig{Name: "M", Mirror: &njs.StreamSource{Name: "O"}, Storage: njs.FileStorage})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(c, "o.z", []byte("late")); err != nil {
		t.Fatal(err)
	}
	servertest.WaitUntil(t, "the mirror to catch up", func() bool {
		info, err := m.Info(c)
		return err == nil && info.State.LastSeq == 21 && info.State.Msgs == 16 && info.Mirror != nil && info.Mirror.Lag == 0
	})
	for _, seq := range []uint64{1, 4, 10, 21} {
		a, err := origin.GetMsg(c, seq)
		if err != nil {
			t.Fatal(err)
		}
		b, err := m.GetMsg(c, seq)
		if err != nil {
			t.Fatalf("mirror seq %d: %v", seq, err)
		}
		if a.Subject != b.Subject || string(a.Data) != string(b.Data) || !a.Time.Equal(b.Time) {
			t.Fatalf("seq %d: origin %+v mirror %+v", seq, a, b)
		}
	}
	if _, err := m.GetMsg(c, 6); err == nil {
		t.Fatal("deleted origin message present in mirror")
	}
}

// TestSourcesFilterAndResume sources two streams, one filtered and
// transformed, and checks the copies and their Nats-Stream-Source header;
// after a restart sourcing resumes without duplicates.
func TestSourcesFilterAndResume(t *testing.T) {
	dir := t.TempDir()
	s, jsrv := startJS(t, jetstream.Options{StoreDir: dir})
	nc := servertest.Connect(t, s)
	js, _ := njs.New(nc)
	c := ctx(t)
	for _, n := range []string{"A", "B"} {
		if _, err := js.CreateStream(c, njs.StreamConfig{Name: n, Subjects: []string{strings.ToLower(n) + ".>"}}); err != nil {
			t.Fatal(err)
		}
	}
	pub := func(subj string) {
		t.Helper()
		if _, err := js.Publish(c, subj, []byte(subj)); err != nil {
			t.Fatal(err)
		}
	}
	pub("a.1")
	pub("b.keep")
	pub("b.drop")
	agg, err := js.CreateStream(c, njs.StreamConfig{Name: "AGG", Sources: []*njs.StreamSource{
		{Name: "A"},
		{Name: "B", SubjectTransforms: []njs.SubjectTransformConfig{{Source: "b.keep", Destination: "kept.b"}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	pub("a.2")
	servertest.WaitUntil(t, "sources to copy", func() bool {
		info, err := agg.Info(c)
		return err == nil && info.State.Msgs == 3
	})
	last, err := agg.GetLastMsgForSubject(c, "kept.b")
	if err != nil {
		t.Fatal(err)
	}
	if got := last.Header.Get("Nats-Stream-Source"); !strings.HasPrefix(got, "B 1 ") {
		t.Fatalf("Nats-Stream-Source %q", got)
	}
	// Restart JetStream on the same directory: nothing is copied twice.
	if err := jsrv.Shutdown(c); err != nil {
		t.Fatal(err)
	}
	if _, err := jetstream.Start(s, jetstream.Options{StoreDir: dir}); err != nil {
		t.Fatal(err)
	}
	pub("a.3")
	servertest.WaitUntil(t, "the new message", func() bool {
		info, err := js.Stream(c, "AGG")
		if err != nil {
			return false
		}
		in := info.CachedInfo()
		return in.State.Msgs == 4
	})
	info, _ := js.Stream(c, "AGG")
	if in := info.CachedInfo(); in.State.LastSeq != 4 {
		t.Fatalf("after restart: %+v", in.State)
	}
}
