package replies

import (
	"strings"
	"testing"
	"time"
)

func TestTable(t *testing.T) {
	var tb Table[string]
	single := tb.Add("tag", "a", true, time.Minute)
	if !strings.HasPrefix(single, Prefix+"tag.") || !IsReply([]byte(single)) {
		t.Fatalf("subject %q", single)
	}
	if to, ok := tb.Take(single); !ok || to != "a" {
		t.Fatalf("Take = %q, %v", to, ok)
	}
	if _, ok := tb.Take(single); ok {
		t.Fatal("a singleton reply answered twice")
	}
	stream := tb.Add("tag", "b", false, time.Minute)
	for range 2 {
		if to, ok := tb.Take(stream); !ok || to != "b" {
			t.Fatalf("Take = %q, %v", to, ok)
		}
	}
	tb.Remove(stream)
	if _, ok := tb.Take(stream); ok {
		t.Fatal("removed reply still pending")
	}
	expired := tb.Add("tag", "c", false, -time.Second)
	if _, ok := tb.Take(expired); ok {
		t.Fatal("expired reply taken")
	}
}

func TestTagAndPrefix(t *testing.T) {
	if Tag("NABC") != Tag("NABC") || len(Tag("NABC")) != 6 || Tag("NABC") == Tag("NABD") {
		t.Fatal("Tag is not a stable 6-character digest")
	}
	for s, want := range map[string]bool{"_R_.x.y": true, "_R_.": false, "_R": false, "foo": false} {
		if IsReply([]byte(s)) != want {
			t.Errorf("IsReply(%q) != %v", s, want)
		}
	}
}

func TestTableRange(t *testing.T) {
	var tb Table[string]
	tb.Range(func(string, string) bool {
		t.Fatal("an empty table has no entry")
		return false
	})
	a := tb.Add("tag", "a", false, time.Minute)
	b := tb.Add("tag", "b", true, time.Minute)
	tb.Add("tag", "gone", false, -time.Second) // expired already
	got := map[string]string{}
	tb.Range(func(subj, to string) bool {
		got[subj] = to
		return true
	})
	if len(got) != 2 || got[a] != "a" || got[b] != "b" {
		t.Fatalf("Range saw %v", got)
	}
	n := 0
	tb.Range(func(string, string) bool {
		n++
		return false
	})
	if n != 1 {
		t.Fatalf("Range went on after false: %d calls", n)
	}
}
