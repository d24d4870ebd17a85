package fstest_test

import (
	"fmt"
	"os"

	"natsd.dev/jetstream/store/filestore/fstest"
)

// A file written and synced, but whose directory was not synced, is gone
// after a power loss.
func Example() {
	fsys := fstest.New()
	f, _ := fsys.OpenFile("/log", os.O_RDWR|os.O_CREATE, 0o644)
	f.WriteAt([]byte("entry"), 0)
	f.Sync()

	_, err := fsys.PowerLoss(nil).ReadFile("/log")
	fmt.Println(os.IsNotExist(err))

	d, _ := fsys.OpenFile("/", os.O_RDONLY, 0)
	d.Sync()
	b, _ := fsys.PowerLoss(nil).ReadFile("/log")
	fmt.Println(string(b))
	// Output:
	// true
	// entry
}
