package fstest_test

import (
	"bytes"
	"math/rand/v2"
	"os"
	"testing"

	"natsd.dev/jetstream/store/filestore"
	"natsd.dev/jetstream/store/filestore/fstest"
)

func create(t *testing.T, fsys filestore.FS, name string, data string, sync bool) filestore.File {
	t.Helper()
	f, err := fsys.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte(data), 0); err != nil {
		t.Fatal(err)
	}
	if sync {
		if err := f.Sync(); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func syncDir(t *testing.T, fsys filestore.FS, name string) {
	t.Helper()
	d, err := fsys.OpenFile(name, os.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Sync(); err != nil {
		t.Fatal(err)
	}
	d.Close()
}

func content(t *testing.T, fsys *fstest.FS, name string) (string, bool) {
	t.Helper()
	b, err := fsys.ReadFile(name)
	if os.IsNotExist(err) {
		return "", false
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(b), true
}

func want(t *testing.T, fsys *fstest.FS, name, data string, exists bool) {
	t.Helper()
	got, ok := content(t, fsys, name)
	if ok != exists || got != data {
		t.Fatalf("%s = %q (exists %v), want %q (exists %v)", name, got, ok, data, exists)
	}
}

func TestPowerLoss(t *testing.T) {
	fsys := fstest.New()
	if err := fsys.MkdirAll("/a/b", 0o755); err != nil {
		t.Fatal(err)
	}
	// Nothing synced: the directories are gone.
	if _, err := fsys.PowerLoss(nil).ReadDir("/a"); !os.IsNotExist(err) {
		t.Fatalf("unsynced mkdir survived: %v", err)
	}
	syncDir(t, fsys, "/")
	syncDir(t, fsys, "/a")

	f := create(t, fsys, "/a/b/f", "hello", true)
	want(t, fsys.PowerLoss(nil), "/a/b/f", "", false) // entry not synced
	syncDir(t, fsys, "/a/b")
	want(t, fsys.PowerLoss(nil), "/a/b/f", "hello", true)

	f.WriteAt([]byte(" world"), 5)
	want(t, fsys, "/a/b/f", "hello world", true)
	want(t, fsys.PowerLoss(nil), "/a/b/f", "hello", true)
	f.Sync()
	want(t, fsys.PowerLoss(nil), "/a/b/f", "hello world", true)
	f.Truncate(5)
	want(t, fsys.PowerLoss(nil), "/a/b/f", "hello world", true)
	f.Sync()
	want(t, fsys.PowerLoss(nil), "/a/b/f", "hello", true)

	// An entry synced before the data: the file comes back empty.
	create(t, fsys, "/a/b/g", "data", false)
	syncDir(t, fsys, "/a/b")
	want(t, fsys.PowerLoss(nil), "/a/b/g", "", true)

	// Rename and remove need the directory synced.
	if err := fsys.Rename("/a/b/f", "/a/b/h"); err != nil {
		t.Fatal(err)
	}
	pl := fsys.PowerLoss(nil)
	want(t, pl, "/a/b/f", "hello", true)
	want(t, pl, "/a/b/h", "", false)
	syncDir(t, fsys, "/a/b")
	pl = fsys.PowerLoss(nil)
	want(t, pl, "/a/b/f", "", false)
	want(t, pl, "/a/b/h", "hello", true)
	if err := fsys.Remove("/a/b/h"); err != nil {
		t.Fatal(err)
	}
	want(t, fsys, "/a/b/h", "", false)
	want(t, fsys.PowerLoss(nil), "/a/b/h", "hello", true)
	syncDir(t, fsys, "/a/b")
	want(t, fsys.PowerLoss(nil), "/a/b/h", "", false)

	// RemoveAll changes the parent only.
	fsys.RemoveAll("/a/b")
	want(t, fsys.PowerLoss(nil), "/a/b/g", "", true)
	syncDir(t, fsys, "/a")
	want(t, fsys.PowerLoss(nil), "/a/b/g", "", false)

	if files, dirs := fsys.Unsynced(); files != 0 || dirs != 0 {
		t.Fatalf("Unsynced = %d files, %d dirs", files, dirs)
	}

	// Keeping entries keeps unsynced creations, not unsynced data.
	create(t, fsys, "/a/n", "new", false)
	want(t, fsys.PowerLoss(nil), "/a/n", "", false)
	want(t, fsys.PowerLossKeepEntries(nil), "/a/n", "", true)
}

// TestTornWrites checks that a random power loss keeps the synced data plus
// a prefix of the later writes, the last one possibly cut.
func TestTornWrites(t *testing.T) {
	fsys := fstest.New()
	f := create(t, fsys, "/f", "base", true)
	syncDir(t, fsys, "/")
	writes := []string{"-one", "-two", "-three"}
	full := "base"
	for _, w := range writes {
		f.WriteAt([]byte(w), int64(len(full)))
		full += w
	}
	r := rand.New(rand.NewPCG(1, 2))
	seen := map[string]bool{}
	for range 1000 {
		got, ok := content(t, fsys.PowerLoss(r), "/f")
		if !ok || !bytes.HasPrefix([]byte(full), []byte(got)) || len(got) < 4 {
			t.Fatalf("power loss left %q, want a prefix of %q at least %q", got, full, "base")
		}
		seen[got] = true
	}
	// Every cut point shows up: 4 + 4 + 4 + 6 bytes of writes.
	if len(seen) != len(full)-len("base")+1 {
		t.Fatalf("saw %d different states, want %d", len(seen), len(full)-3)
	}
}

func TestKill(t *testing.T) {
	fsys := fstest.New()
	create(t, fsys, "/f", "x", false)
	k := fsys.Kill()
	want(t, k, "/f", "x", true)
	want(t, k.PowerLoss(nil), "/f", "", false)
	// The copy is independent.
	f, err := k.OpenFile("/f", os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte("y"), 0)
	want(t, fsys, "/f", "x", true)
	f.Sync()
	syncDir(t, k, "/")
	want(t, k.PowerLoss(nil), "/f", "y", true)
	if files, dirs := fsys.Unsynced(); files != 1 || dirs != 1 {
		t.Fatalf("Unsynced = %d files, %d dirs, want 1 and 1", files, dirs)
	}
}

func TestErrors(t *testing.T) {
	fsys := fstest.New()
	if _, err := fsys.OpenFile("/missing", os.O_RDONLY, 0); !os.IsNotExist(err) {
		t.Fatalf("open missing = %v", err)
	}
	if _, err := fsys.OpenFile("/no/dir/f", os.O_RDWR|os.O_CREATE, 0o644); !os.IsNotExist(err) {
		t.Fatalf("create in missing dir = %v", err)
	}
	if err := fsys.Remove("/missing"); !os.IsNotExist(err) {
		t.Fatalf("remove missing = %v", err)
	}
	f := create(t, fsys, "/f", "abc", false)
	if _, err := fsys.OpenFile("/f", os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644); !os.IsExist(err) {
		t.Fatalf("O_EXCL on existing = %v", err)
	}
	buf := make([]byte, 5)
	if n, err := f.ReadAt(buf, 1); n != 2 || err == nil {
		t.Fatalf("short ReadAt = %d, %v", n, err)
	}
	f.Close()
	if _, err := f.WriteAt([]byte("x"), 0); err == nil {
		t.Fatal("write after close succeeded")
	}
	d, _ := fsys.OpenFile("/", os.O_RDONLY, 0)
	if _, err := d.WriteAt([]byte("x"), 0); err == nil {
		t.Fatal("write to a directory succeeded")
	}
	if fi, err := d.Stat(); err != nil || !fi.IsDir() {
		t.Fatalf("Stat of a directory = %v, %v", fi, err)
	}
}
