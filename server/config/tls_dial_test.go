package config_test

import (
	"fmt"
	"testing"

	"natsd.dev/confparse"
	"natsd.dev/server/config"
	"natsd.dev/server/servertest"
)

// TestParseDialTLSBlock checks the tls {} of a side that dials: no
// certificate needed, ca_file loaded, and the listener's rules otherwise.
func TestParseDialTLSBlock(t *testing.T) {
	f := servertest.NewPKI(t).Files()
	for _, tc := range []struct {
		block, err string
		certs      int
		ca         bool
	}{
		{block: "tls {\n timeout: 3\n}\n"},
		{block: fmt.Sprintf("tls {\n ca_file: %q\n}\n", f.CA), ca: true},
		{block: fmt.Sprintf("tls {\n cert_file: %q\n key_file: %q\n ca_file: %q\n}\n", f.Cert, f.Key, f.CA), certs: 1, ca: true},
		{block: fmt.Sprintf("tls {\n cert_file: %q\n}\n", f.Cert), err: "1:5: missing 'key_file' in TLS configuration"},
		{block: "tls {\n ca_file: \"/nonexistent/ca.pem\"\n}\n", err: "1:5: error reading ca_file: open /nonexistent/ca.pem: no such file or directory"},
		{block: "tls {\n bogus: 1\n}\n", err: `2:2: error parsing tls config, unknown field "bogus"`},
	} {
		m, err := confparse.Parse([]byte(tc.block))
		if err != nil {
			t.Fatal(err)
		}
		v, _ := m.Get("tls")
		tb, errs := config.ParseDialTLSBlock("leafnodes remotes tls", v)
		if tc.err != "" {
			if errs.Error() != tc.err {
				t.Errorf("%s: %v, want %s", tc.block, errs, tc.err)
			}
			continue
		}
		if errs != nil || tb.Config == nil || len(tb.Config.Certificates) != tc.certs || (tb.Config.ClientCAs != nil) != tc.ca {
			t.Errorf("%s: %+v %v", tc.block, tb, errs)
		}
	}
}
