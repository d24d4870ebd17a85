package jetstream_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	njs "github.com/nats-io/nats.go/jetstream"

	"natsd.dev/jetstream"
	"natsd.dev/server/servertest"
)

// compressibleMsg is about 4 KB of repeated text, different per i.
func compressibleMsg(i int) []byte {
	line := fmt.Sprintf("message %d: the quick brown fox jumps over the lazy dog. ", i)
	return bytes.Repeat([]byte(line), 4096/len(line)+1)[:4096]
}

// streamDirSize is the size of the files of a stream's directory.
func streamDirSize(t *testing.T, storeDir, name string) int64 {
	t.Helper()
	dirs, _ := filepath.Glob(filepath.Join(storeDir, "jetstream", "*", "streams", name))
	if len(dirs) != 1 {
		t.Fatalf("stream directories of %s: %v", name, dirs)
	}
	var n int64
	err := filepath.Walk(dirs[0], func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			n += fi.Size()
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestStreamCompression stores the same messages in a file stream without
// compression and in one with S2: the compressed one takes far less disk
// and reports the same bytes; messages read back identical, after the
// compression of both streams is switched by an update and after a
// restart.
func TestStreamCompression(t *testing.T) {
	dir := t.TempDir()
	s, jsrv := startJS(t, jetstream.Options{StoreDir: dir})
	nc := servertest.Connect(t, s)
	js, _ := njs.New(nc)
	// Some 6,000 requests: more than ctx's 10 s under -race.
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, sc := range []njs.StreamConfig{
		{Name: "PLAIN", Subjects: []string{"p.msg"}, Storage: njs.FileStorage},
		{Name: "ZIP", Subjects: []string{"z.msg"}, Storage: njs.FileStorage, Compression: njs.S2Compression},
	} {
		if _, err := js.CreateStream(c, sc); err != nil {
			t.Fatal(err)
		}
	}
	const n = 1000
	want := map[string][][]byte{}
	publish := func(count int) {
		t.Helper()
		for _, subj := range []string{"p.msg", "z.msg"} {
			for range count {
				data := compressibleMsg(len(want[subj]))
				if _, err := js.PublishAsync(subj, data); err != nil {
					t.Fatal(err)
				}
				want[subj] = append(want[subj], data)
			}
		}
		select {
		case <-js.PublishAsyncComplete():
		case <-c.Done():
			t.Fatal("publish acks not received")
		}
	}
	publish(n)

	info := func(name string) *njs.StreamInfo {
		t.Helper()
		st, err := js.Stream(c, name)
		if err != nil {
			t.Fatal(err)
		}
		return st.CachedInfo()
	}
	plain, zip := info("PLAIN"), info("ZIP")
	if plain.State.Msgs != n || zip.State.Msgs != n || plain.State.Bytes != zip.State.Bytes {
		t.Fatalf("state: plain %+v, compressed %+v", plain.State, zip.State)
	}
	if zip.Config.Compression != njs.S2Compression {
		t.Fatalf("compression %v", zip.Config.Compression)
	}
	plainSize, zipSize := streamDirSize(t, dir, "PLAIN"), streamDirSize(t, dir, "ZIP")
	t.Logf("on disk: %d bytes plain, %d bytes with s2 (stream bytes %d)", plainSize, zipSize, zip.State.Bytes)
	if zipSize*5 > plainSize || plainSize < int64(n*4096) {
		t.Fatalf("on disk: %d bytes plain, %d bytes with s2", plainSize, zipSize)
	}

	check := func(when string) {
		t.Helper()
		for name, subj := range map[string]string{"PLAIN": "p.msg", "ZIP": "z.msg"} {
			st, err := js.Stream(c, name)
			if err != nil {
				t.Fatal(err)
			}
			for i, data := range want[subj] {
				m, err := st.GetMsg(c, uint64(i+1))
				if err != nil {
					t.Fatalf("%s: %s GetMsg(%d): %v", when, name, i+1, err)
				}
				if m.Subject != subj || !bytes.Equal(m.Data, data) {
					t.Fatalf("%s: %s message %d differs", when, name, i+1)
				}
			}
		}
		if p, z := info("PLAIN").State, info("ZIP").State; p.Bytes != z.Bytes || p.Msgs != uint64(len(want["p.msg"])) || z.Msgs != p.Msgs {
			t.Fatalf("%s: state: plain %+v, compressed %+v", when, p, z)
		}
	}
	check("stored")

	// Switch both: records of either kind read back alike.
	for name, comp := range map[string]njs.StoreCompression{"PLAIN": njs.S2Compression, "ZIP": njs.NoCompression} {
		cfg := info(name).Config
		cfg.Compression = comp
		upd, err := js.UpdateStream(c, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if got := upd.CachedInfo().Config.Compression; got != comp {
			t.Fatalf("%s: compression after update %v", name, got)
		}
	}
	plainBefore, zipBefore := streamDirSize(t, dir, "PLAIN"), streamDirSize(t, dir, "ZIP")
	publish(100)
	if grown := streamDirSize(t, dir, "PLAIN") - plainBefore; grown > 100*4096/5 {
		t.Fatalf("PLAIN grew by %d bytes for 100 messages after switching to s2", grown)
	}
	if grown := streamDirSize(t, dir, "ZIP") - zipBefore; grown < 100*4096 {
		t.Fatalf("ZIP grew by %d bytes for 100 messages after switching compression off", grown)
	}
	check("updated")

	if err := jsrv.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	jsrv, err := jetstream.Start(s, jetstream.Options{StoreDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = jsrv.Shutdown(context.Background()) })
	check("restarted")
	if info("PLAIN").Config.Compression != njs.S2Compression || info("ZIP").Config.Compression != njs.NoCompression {
		t.Fatal("compression settings not kept across the restart")
	}
}
