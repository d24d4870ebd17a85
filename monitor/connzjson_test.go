package monitor

import (
	"encoding/json"
	"testing"
	"time"

	"natsd.dev/server/snapshot"
)

func sampleConnz(s string, n int) *snapshot.Connz {
	now := time.Date(2026, 11, 22, 13, 4, 5, 123456789, time.UTC)
	local := now.In(time.FixedZone("X", -7*3600))
	stop := now.Add(time.Second)
	cz := &snapshot.Connz{ID: "N" + s, Now: now, NumConns: n, Total: n + 3, Offset: 2, Limit: 1024, Conns: []*snapshot.ConnInfo{}}
	for i := range n {
		ci := &snapshot.ConnInfo{
			Cid: uint64(i + 1), IP: "127.0.0.1", Port: 4000 + i, Start: local, LastActivity: now.Truncate(time.Second),
			Uptime: "1m2s", Idle: "0s", Pending: i, InMsgs: -1, OutMsgs: 1 << 40, InBytes: 7, OutBytes: 8, NumSubs: uint32(i),
		}
		switch i % 4 {
		case 0:
			ci.Kind, ci.Type, ci.RTT, ci.Name, ci.Lang, ci.Version = "Client", "nats", "1.2ms", s, "go", "1.0"
			ci.Subs = []string{s, "foo.>"}
		case 1:
			ci.Stop, ci.Reason, ci.Account, ci.AuthorizedUser = &stop, "Client Closed", s, "u"+s
			ci.SubsDetail = []snapshot.SubDetail{{Account: s, Subject: "a.b", Queue: s, Sid: "1", Msgs: 3, Max: 9, Cid: 5}, {Subject: s, Sid: s}}
		case 2:
			ci.MQTTClient, ci.TLSVersion, ci.TLSCipher = s, "1.3", "TLS_AES_128_GCM_SHA256"
			ci.Subs = []string{}
		}
		cz.Conns = append(cz.Conns, ci)
	}
	return cz
}

func checkConnzJSON(t *testing.T, cz *snapshot.Connz) {
	t.Helper()
	want, err := json.MarshalIndent(cz, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if got := appendConnz(nil, cz); string(got) != string(want) {
		t.Fatalf("appendConnz differs from encoding/json:\ngot:\n%s\nwant:\n%s", got, want)
	}
}

func TestAppendConnzMatchesEncodingJSON(t *testing.T) {
	for _, n := range []int{0, 1, 2, 5} {
		for _, s := range []string{"plain", "", "q\"u\\o<t>e&", "ctl\x00\x1f\n\t\b\f", "üñí\u2028\u2029", "bad\xff"} {
			checkConnzJSON(t, sampleConnz(s, n))
		}
	}
	cz := sampleConnz("x", 2)
	cz.Conns = nil
	checkConnzJSON(t, cz)
	cz = sampleConnz("x", 2)
	cz.Conns[1] = nil
	checkConnzJSON(t, cz)
}

// FuzzAppendConnz holds the hand-written encoder to encoding/json.
func FuzzAppendConnz(f *testing.F) {
	f.Add("plain", 3)
	f.Add("<&>\"\\\n", 4)
	f.Fuzz(func(t *testing.T, s string, n int) {
		checkConnzJSON(t, sampleConnz(s, n&7))
	})
}

func BenchmarkConnzJSON(b *testing.B) {
	cz := sampleConnz("bench", 1024)
	b.Run("encoding/json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			json.MarshalIndent(cz, "", "  ")
		}
	})
	b.Run("appendConnz", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			buf = appendConnz(buf[:0], cz)
		}
	})
}
