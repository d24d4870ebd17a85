package auth_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"math/big"
	"net/url"
	"testing"
	"time"

	"natsd.dev/auth"
)

var testKey, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)

// makeCert returns a self-signed client certificate built from tmpl.
func makeCert(t *testing.T, tmpl *x509.Certificate) *x509.Certificate {
	t.Helper()
	tmpl.SerialNumber = big.NewInt(1)
	tmpl.NotBefore = time.Now().Add(-time.Hour)
	tmpl.NotAfter = time.Now().Add(time.Hour)
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &testKey.PublicKey, testKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func TestCertMap(t *testing.T) {
	oidDC := asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 25}
	users, err := auth.NewUsers([]auth.User{
		{Name: "alice@example.com", Account: "A"},
		{Name: "bob.example.com", Account: "B"},
		{Name: "spiffe://example.com/svc/carol", Account: "C"},
		{Name: "CN=dave,OU=eng,O=Acme,C=US", Account: "D"},
		{Name: "CN=erin,O=Acme,DC=example,DC=com", Account: "E"},
		{Name: "c=US, o=Acme, cn=frank\\, jr", Account: "F"},
		{Name: "CN=gina+UID=42,O=Acme", Account: "G"},
		{Name: "CN=mqtt-only,O=Acme", AllowedConnectionTypes: []auth.ConnKind{auth.KindMQTT}},
	}, "")
	if err != nil {
		t.Fatal(err)
	}
	m := auth.NewCertMap(users)
	u := func(s string) *url.URL { p, _ := url.Parse(s); return p }
	tests := []struct {
		name string
		tmpl x509.Certificate
		kind auth.ConnKind
		want string // account, "" for a failure
	}{
		{"email SAN", x509.Certificate{Subject: pkix.Name{CommonName: "x"}, EmailAddresses: []string{"nobody@x", "alice@example.com"}}, 0, "A"},
		{"DNS SAN", x509.Certificate{Subject: pkix.Name{CommonName: "x"}, DNSNames: []string{"bob.example.com"}}, 0, "B"},
		{"email before DNS", x509.Certificate{EmailAddresses: []string{"alice@example.com"}, DNSNames: []string{"bob.example.com"}}, 0, "A"},
		{"URI SAN", x509.Certificate{URIs: []*url.URL{u("spiffe://example.com/svc/carol")}}, 0, "C"},
		{"subject RFC 2253", x509.Certificate{Subject: pkix.Name{CommonName: "dave", OrganizationalUnit: []string{"eng"}, Organization: []string{"Acme"}, Country: []string{"US"}}}, 0, "D"},
		{"subject with DCs", x509.Certificate{Subject: pkix.Name{CommonName: "erin", Organization: []string{"Acme"},
			ExtraNames: []pkix.AttributeTypeAndValue{{Type: oidDC, Value: "example"}, {Type: oidDC, Value: "com"}}}}, 0, "E"},
		{"DN reordered, lower-case types, escaped comma", x509.Certificate{Subject: pkix.Name{CommonName: "frank, jr", Organization: []string{"Acme"}, Country: []string{"US"}}}, 0, "F"},
		{"multi-valued RDN", x509.Certificate{RawSubject: rawSubject(t, pkix.RDNSequence{
			{{Type: asn1.ObjectIdentifier{2, 5, 4, 10}, Value: "Acme"}},
			{{Type: asn1.ObjectIdentifier{2, 5, 4, 3}, Value: "gina"}, {Type: asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 1}, Value: "42"}},
		})}, 0, "G"},
		{"subject value case matters", x509.Certificate{Subject: pkix.Name{CommonName: "DAVE", OrganizationalUnit: []string{"eng"}, Organization: []string{"Acme"}, Country: []string{"US"}}}, 0, ""},
		{"extra attribute", x509.Certificate{Subject: pkix.Name{CommonName: "dave", OrganizationalUnit: []string{"eng"}, Organization: []string{"Acme"}, Country: []string{"US"}, Locality: []string{"Paris"}}}, 0, ""},
		// CVE-2026-33248: subjects that only resemble a user's DN.
		{"a second CN before (pkix.Name keeps the last)", x509.Certificate{RawSubject: rawSubject(t, pkix.RDNSequence{
			{{Type: asn1.ObjectIdentifier{2, 5, 4, 6}, Value: "US"}}, {{Type: asn1.ObjectIdentifier{2, 5, 4, 10}, Value: "Acme"}},
			{{Type: asn1.ObjectIdentifier{2, 5, 4, 11}, Value: "eng"}},
			{{Type: asn1.ObjectIdentifier{2, 5, 4, 3}, Value: "mallory"}}, {{Type: asn1.ObjectIdentifier{2, 5, 4, 3}, Value: "dave"}},
		})}, 0, ""},
		{"a NUL and separator inside a value", x509.Certificate{RawSubject: rawSubject(t, pkix.RDNSequence{
			{{Type: asn1.ObjectIdentifier{2, 5, 4, 3}, Value: "gina\x00+UID=42\x00,O=Acme"}},
		})}, 0, ""},
		{"unknown", x509.Certificate{Subject: pkix.Name{CommonName: "zed"}, DNSNames: []string{"zed.example.com"}}, 0, ""},
		{"conn type allowed", x509.Certificate{Subject: pkix.Name{CommonName: "mqtt-only", Organization: []string{"Acme"}}}, auth.KindMQTT, "-"},
		{"conn type denied", x509.Certificate{Subject: pkix.Name{CommonName: "mqtt-only", Organization: []string{"Acme"}}}, auth.KindStandard, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cert := makeCert(t, &tt.tmpl)
			req := &auth.Request{Kind: tt.kind, User: "ignored", Password: "ignored",
				TLS: &tls.ConnectionState{PeerCertificates: []*x509.Certificate{cert}}}
			id, err := m.Authenticate(req)
			switch {
			case tt.want == "" && err == nil:
				t.Fatalf("authenticated as %q (subject %s)", id.Name, cert.Subject)
			case tt.want == "" && (!errors.Is(err, auth.ErrAuthorization) || errors.Is(err, auth.ErrNoMatch)):
				t.Fatalf("error %v, want a definite failure", err)
			case tt.want != "" && err != nil:
				t.Fatalf("%v (subject %s)", err, cert.Subject)
			case tt.want != "" && tt.want != "-" && id.Account != tt.want:
				t.Fatalf("account %q, want %q", id.Account, tt.want)
			}
		})
	}
	for _, st := range []*tls.ConnectionState{nil, {}} {
		if _, err := m.Authenticate(&auth.Request{TLS: st}); !errors.Is(err, auth.ErrAuthorization) || errors.Is(err, auth.ErrNoMatch) {
			t.Errorf("no certificate: %v", err)
		}
	}
}

func rawSubject(t *testing.T, rdns pkix.RDNSequence) []byte {
	t.Helper()
	b, err := asn1.Marshal(rdns)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
