package filestore_test

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"natsd.dev/jetstream/store"
	"natsd.dev/jetstream/store/filestore"
)

var crashRounds = flag.Int("crash.rounds", 0, "rounds of TestCrash (0: 6, or 2 under -short)")

const crashEnv = "FILESTORE_CRASH_CHILD_DIR"

// TestCrashChild is the child process of TestCrash: it writes until it is
// killed and prints "seq payload" for every message once WaitDurable says
// it is durable.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashEnv)
	if dir == "" {
		t.Skip("child of TestCrash")
	}
	s, err := filestore.Open(filestore.Config{Dir: dir, BlockSize: 32 << 10}, store.Config{})
	if err != nil {
		fmt.Println("open error:", err)
		os.Exit(2)
	}
	var mu sync.Mutex
	out := os.Stdout
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				payload := fmt.Sprintf("w%d-%d-%s", w, i, strings.Repeat("x", i%97))
				seq, err := s.StoreMsg(fmt.Sprintf("crash.%d", i%13), nil, []byte(payload), 0, 0)
				if err != nil {
					fmt.Println("store error:", err)
					os.Exit(2)
				}
				if err := s.WaitDurable(context.Background(), seq); err != nil {
					fmt.Println("durable error:", err)
					os.Exit(2)
				}
				mu.Lock()
				out.WriteString(strconv.FormatUint(seq, 10) + " " + payload + "\n")
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}

// TestCrash kills a writing child process with SIGKILL at random moments
// and checks that every message it was told was durable survived.
func TestCrash(t *testing.T) {
	if os.Getenv(crashEnv) != "" {
		t.Skip("in child")
	}
	rounds := *crashRounds
	if rounds == 0 {
		rounds = 6
		if testing.Short() {
			rounds = 2
		}
	}
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	durable := map[uint64]string{}
	for round := range rounds {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashEnv+"="+dir)
		var stdout bytes.Buffer
		cmd.Stdout = &stdout
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(150+r.IntN(400)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		sc := bufio.NewScanner(bytes.NewReader(stdout.Bytes()))
		n := 0
		for sc.Scan() {
			line := sc.Text()
			seqStr, payload, ok := strings.Cut(line, " ")
			seq, err := strconv.ParseUint(seqStr, 10, 64)
			if !ok || err != nil {
				t.Fatalf("child said %q", line)
			}
			durable[seq] = payload
			n++
		}
		// A last line cut short by the kill has no newline: Scanner still
		// returns it, so drop a partial payload by checking it below only if
		// the output ended with a newline.
		if b := stdout.Bytes(); len(b) > 0 && b[len(b)-1] != '\n' {
			last := b[bytes.LastIndexByte(b, '\n')+1:]
			seqStr, _, _ := strings.Cut(string(last), " ")
			seq, _ := strconv.ParseUint(seqStr, 10, 64)
			delete(durable, seq)
			n--
		}
		s, err := filestore.Open(filestore.Config{Dir: dir}, store.Config{})
		if err != nil {
			t.Fatalf("round %d: reopen: %v", round, err)
		}
		rep := s.RecoveryReport()
		if rep.Err() != nil {
			t.Fatalf("round %d: recovery found damage: %v", round, rep.Err())
		}
		var m store.StoredMsg
		for seq, payload := range durable {
			if err := s.LoadMsg(seq, &m); err != nil {
				t.Fatalf("round %d: durable seq %d: %v", round, seq, err)
			}
			if string(m.Data) != payload {
				t.Fatalf("round %d: seq %d = %q, want %q", round, seq, m.Data, payload)
			}
		}
		st := s.State()
		t.Logf("round %d: %d acked this round, %d durable in all, store has %d (last %d), torn tail %d bytes, recovery %v",
			round, n, len(durable), st.Msgs, st.LastSeq, rep.TornBytes, rep.Duration)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
