package server_test

import (
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"natsd.dev/confparse"
	"natsd.dev/server"
	"natsd.dev/server/config"
	"natsd.dev/server/servertest"
)

// FuzzConfigTLSFirstAndPins feeds arbitrary handshake_first values and
// pinned_certs entries to the tls {} parser. Oracle: the outcome matches
// upstream's rules computed independently here (booleans as strings,
// "auto", a positive duration, else `field "handshake_first" value ...
// is invalid`), a pin is stored lower-cased, and only an entry that is
// not a 64-digit hex digest draws a warning.
func FuzzConfigTLSFirstAndPins(f *testing.F) {
	p := servertest.NewPKI(f)
	files := p.Files()
	cert, key := files.Cert, files.Key
	for _, s := range [][2]string{
		{"auto", strings.Repeat("AB", 32)}, {"AUTO_FALLBACK", "zz"}, {"300ms", ""}, {"on", "0"},
		{"off", strings.Repeat("0", 64)}, {"-1s", "g" + strings.Repeat("0", 63)}, {"0s", "x"}, {"1h2m", " "},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, first, pin string) {
		text := fmt.Sprintf("tls {\n cert_file: %q\n key_file: %q\n handshake_first: %q\n pinned_certs: [%q]\n}\n", cert, key, first, pin)
		m, err := confparse.ParseWithOptions("f.conf", []byte(text), confparse.Options{Env: func(string) (string, bool) { return "", false }})
		if err != nil {
			t.Skip() // not a string the config syntax can carry
		}
		// What the applier sees after unquoting.
		tlsMap := m.Entries[0].Value.Map
		var gotFirst, gotPin string
		for _, e := range tlsMap.Entries {
			switch e.Key {
			case "handshake_first":
				gotFirst = e.Value.Str
			case "pinned_certs":
				gotPin = e.Value.Array[0].Str
			}
		}
		c := config.Default()
		warns, err := c.Apply(m)

		wantOn, wantDelay, wantOK := true, time.Duration(0), true
		switch strings.ToLower(gotFirst) {
		case "true", "on":
		case "false", "off":
			wantOn = false
		case "auto", "auto_fallback":
			wantDelay = server.DefaultTLSHandshakeFirstFallback
		default:
			d, perr := time.ParseDuration(gotFirst)
			wantOK = perr == nil && d > 0
			wantDelay = d
		}
		if !wantOK {
			if err == nil || !strings.Contains(err.Error(), `f.conf:4:19: field "handshake_first" value`) {
				t.Fatalf("handshake_first %q: want an invalid-value error, got %v", gotFirst, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("handshake_first %q pin %q: %v", gotFirst, gotPin, err)
		}
		o := c.Options
		if o.TLSHandshakeFirst != wantOn || o.TLSHandshakeFirstFallback != wantDelay {
			t.Fatalf("handshake_first %q: got %v/%v, want %v/%v", gotFirst, o.TLSHandshakeFirst, o.TLSHandshakeFirstFallback, wantOn, wantDelay)
		}
		if _, ok := o.TLSPinnedCerts[strings.ToLower(gotPin)]; !ok || len(o.TLSPinnedCerts) != 1 {
			t.Fatalf("pin %q: got %v", gotPin, o.TLSPinnedCerts)
		}
		b, herr := hex.DecodeString(gotPin)
		digest := herr == nil && len(b) == 32
		badPin := strings.Contains(warns.Error(), "is not a hex SHA-256 digest")
		if badPin == digest {
			t.Fatalf("pin %q: digest=%v but warnings %q", gotPin, digest, warns.Error())
		}
	})
}
