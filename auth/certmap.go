package auth

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// certMap is the verify_and_map authenticator.
type certMap struct {
	users *Users
	byDN  map[string]*entry // normalized DN -> user whose Name is that DN
}

// NewCertMap returns the authenticator of TLS verify_and_map: the client
// certificate (the first of Request.TLS.PeerCertificates, already verified
// by the TLS handshake) names the user, whose password is then not
// checked. It looks, in this order, for a user whose Name is
//
//  1. one of the certificate's e-mail addresses (SAN),
//  2. one of its DNS names (SAN),
//  3. one of its URIs (SAN), as written,
//  4. its subject as Go prints it in RFC 2253 form (most specific RDN
//     first, "CN=alice,OU=eng,O=Acme,C=US"), also with the subject's
//     domain components appended (",DC=example,DC=com") as upstream does;
//     only when that form lost none of the subject's values (Go keeps one
//     CN of several, so "CN=mallory,CN=dave,..." would print as dave's),
//  5. a distinguished name equal to the subject, comparing attribute
//     types case-insensitively and values exactly, in any RDN order, so
//     "C=US, O=Acme, CN=alice" matches the subject above too.
//
// The user's allowed connection types apply. A request without a client
// certificate, or whose certificate names no user, fails with an error
// that is not ErrNoMatch: with verify_and_map the certificate is the
// credential, and CONNECT's user and password are ignored.
func NewCertMap(users *Users) Authenticator {
	m := &certMap{users: users, byDN: map[string]*entry{}}
	for name, e := range users.byName {
		if key, ok := parseDN(name); ok {
			m.byDN[key] = e
		}
	}
	return m
}

func (m *certMap) Authenticate(r *Request) (*Identity, error) {
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return nil, deny("user required in cert, no client certificate")
	}
	cert := r.TLS.PeerCertificates[0]
	var found *entry
	try := func(name string) bool {
		found = m.users.byName[name]
		return found != nil
	}
	var rdns pkix.RDNSequence
	_, derr := asn1.Unmarshal(cert.RawSubject, &rdns)
	subject := cert.Subject.ToRDNSequence().String()
	// Go's pkix.Name keeps one value of some attributes (a second CN is
	// dropped), so its string form may name a subject the certificate
	// does not have; it is matched only when it lost nothing
	// (CVE-2026-33248).
	faithful := derr == nil && faithfulName(rdns, cert.Subject.ToRDNSequence())
	switch {
	case slices.ContainsFunc(cert.EmailAddresses, try),
		slices.ContainsFunc(cert.DNSNames, try),
		slices.ContainsFunc(cert.URIs, func(u *url.URL) bool { return try(u.String()) }),
		faithful && try(subject),
		faithful && try(subject+domainComponents(rdns)):
	case derr == nil:
		found = m.byDN[rdnKey(rdns)]
	}
	if found == nil {
		return nil, deny("user in cert [%q] not found", cut(subject))
	}
	if !found.kinds.allows(r.Kind) {
		return nil, deny("user %q: connection type %s not allowed", cut(found.id.Name), r.Kind)
	}
	id := found.id
	return &id, nil
}

var oidDC = asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 25}

// faithfulName reports whether named, the subject as Go's pkix.Name
// rebuilds it, holds every value of raw, the subject as the certificate
// encodes it, for the attribute types pkix.Name knows: the same number of
// values of each type, none holding a NUL byte.
func faithfulName(raw, named pkix.RDNSequence) bool {
	count := func(seq pkix.RDNSequence, known map[string]bool) map[string]int {
		n := map[string]int{}
		for _, rdn := range seq {
			for _, atv := range rdn {
				typ := atv.Type.String()
				if known == nil || known[typ] {
					n[typ]++
				}
			}
		}
		return n
	}
	for _, rdn := range raw {
		for _, atv := range rdn {
			if strings.ContainsRune(fmt.Sprint(atv.Value), 0) {
				return false
			}
		}
	}
	want := count(named, nil)
	known := map[string]bool{}
	for typ := range want {
		known[typ] = true
	}
	for _, typ := range []string{"2.5.4.3", "2.5.4.5", "2.5.4.6", "2.5.4.7", "2.5.4.8", "2.5.4.9", "2.5.4.10", "2.5.4.11", "2.5.4.17"} {
		known[typ] = true
	}
	return maps.Equal(count(raw, known), want)
}

// domainComponents returns ",DC=a,DC=b" for the subject's DC attributes,
// which Go's pkix.Name drops from its string form.
func domainComponents(rdns pkix.RDNSequence) string {
	var b strings.Builder
	for _, rdn := range rdns {
		for _, atv := range rdn {
			if v, ok := atv.Value.(string); ok && atv.Type.Equal(oidDC) {
				b.WriteString(",DC=")
				b.WriteString(v)
			}
		}
	}
	return b.String()
}

// attrNames are the short names of the attribute types, by OID, that
// normalized DNs use; other types keep their dotted OID.
var attrNames = map[string]string{
	"2.5.4.3":                    "CN",
	"2.5.4.5":                    "SERIALNUMBER",
	"2.5.4.6":                    "C",
	"2.5.4.7":                    "L",
	"2.5.4.8":                    "ST",
	"2.5.4.9":                    "STREET",
	"2.5.4.10":                   "O",
	"2.5.4.11":                   "OU",
	"2.5.4.17":                   "POSTALCODE",
	"0.9.2342.19200300.100.1.1":  "UID",
	"0.9.2342.19200300.100.1.25": "DC",
	"1.2.840.113549.1.9.1":       "EMAILADDRESS",
}

// attrAliases maps other spellings users write to the short names.
var attrAliases = map[string]string{"E": "EMAILADDRESS", "S": "ST", "USERID": "UID"}

// attrKey quotes the value so that no value can hold the separators
// rdnKey and parseDN join attributes and RDNs with (CVE-2026-33248).
func attrKey(typ, value string) string {
	return typ + "=" + strconv.Quote(value)
}

// rdnKey normalizes a certificate subject: each RDN becomes its sorted
// "TYPE=value" attributes joined by "+", and the RDNs are sorted, so that
// the order of RDNs does not matter.
func rdnKey(rdns pkix.RDNSequence) string {
	keys := make([]string, 0, len(rdns))
	for _, rdn := range rdns {
		atvs := make([]string, 0, len(rdn))
		for _, atv := range rdn {
			typ := atv.Type.String()
			if n, ok := attrNames[typ]; ok {
				typ = n
			}
			atvs = append(atvs, attrKey(typ, fmt.Sprint(atv.Value)))
		}
		slices.Sort(atvs)
		keys = append(keys, strings.Join(atvs, "+"))
	}
	slices.Sort(keys)
	return strings.Join(keys, ",")
}

// parseDN normalizes an RFC 4514 distinguished name written as a user
// name the way rdnKey normalizes a certificate subject. It reports false
// for a name that is not a DN (no "type=value" pair).
func parseDN(s string) (string, bool) {
	var keys []string
	for _, rdn := range splitUnescaped(s, ',') {
		var atvs []string
		for _, atv := range splitUnescaped(rdn, '+') {
			typ, val, ok := strings.Cut(atv, "=")
			typ = strings.ToUpper(strings.TrimSpace(typ))
			if !ok || typ == "" {
				return "", false
			}
			if n, ok := attrNames[typ]; ok {
				typ = n
			} else if n, ok := attrAliases[typ]; ok {
				typ = n
			}
			atvs = append(atvs, attrKey(typ, unescapeDN(strings.TrimSpace(val))))
		}
		slices.Sort(atvs)
		keys = append(keys, strings.Join(atvs, "+"))
	}
	slices.Sort(keys)
	return strings.Join(keys, ","), len(keys) > 0
}

// splitUnescaped splits s at every sep not preceded by a backslash.
func splitUnescaped(s string, sep byte) []string {
	var parts []string
	start := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case sep:
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}

// unescapeDN removes RFC 4514 escapes: "\," and friends, and "\XX" hex
// pairs.
func unescapeDN(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			b.WriteByte(c)
			continue
		}
		if i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
			continue
		}
		i++
		b.WriteByte(s[i])
	}
	return b.String()
}

func isHex(c byte) bool {
	return isDigit(c) || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F')
}

func unhex(c byte) byte {
	switch {
	case isDigit(c):
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}
