package config

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"natsd.dev/confparse"
	"natsd.dev/server"
)

// tlsSettings is what a tls {} block configures besides the tls.Config.
type tlsSettings struct {
	Config         *tls.Config
	Timeout        time.Duration
	Map            bool
	HandshakeFirst bool
	// Fallback is the handshake_first delay ("auto" or a duration).
	Fallback  time.Duration
	Pinned    server.PinnedCerts
	RateLimit int64
	// The keys that set Map, HandshakeFirst and RateLimit, for listeners
	// that refuse or ignore them.
	mapKey, firstKey, rateKey *confparse.Entry
}

// tlsUnsupported are the keys upstream's tls {} blocks take that natsd
// does not have yet (refused as "not supported yet"); any other key
// tlsBlock does not know is an unknown field, as upstream answers
// ("error parsing tls config, unknown field \"x\"").
var tlsUnsupported = map[string]bool{
	"certs":                            true,
	"cert_store":                       true,
	"cert_match_by":                    true,
	"cert_match":                       true,
	"ca_certs_match":                   true,
	"cert_match_skip_invalid":          true,
	"ocsp_peer":                        true,
	"insecure":                         true,
	"allow_insecure_cipher_suites":     true,
	"verify_cert_and_check_known_urls": true,
}

// tlsBlock parses a listener's tls {} block (the top-level one and, through
// DecodeTLSBlock, those of other modules' blocks: cert_file, key_file, ca_file, verify, verify_and_map,
// timeout, cipher_suites, curve_preferences, min_version, handshake_first,
// pinned_certs, connection_rate_limit) and loads the files, as upstream
// does when it reads the configuration. Other upstream keys (certs,
// cert_store, ocsp_peer, ...: tlsUnsupported) are refused as not supported
// yet; the rest are unknown fields.
func (a *applier) tlsBlock(key string, v *confparse.Value) (tlsSettings, bool) {
	return a.tlsBlockFor(key, v, false)
}

// tlsBlockFor is tlsBlock; dial is for the side that dials (a leaf node
// remote), where upstream lets cert_file and key_file both be left out.
func (a *applier) tlsBlockFor(key string, v *confparse.Value, dial bool) (tlsSettings, bool) {
	var ts tlsSettings
	if v.Kind != confparse.KindMap {
		a.TypeError(key, "a map", v)
		return ts, false
	}
	var certFile, keyFile, caFile string
	var verify bool
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	ok := true
	for i := range v.Map.Entries {
		te := &v.Map.Entries[i]
		tk := strings.ToLower(te.Key)
		name := key + " " + tk
		switch tk {
		case "cert_file":
			ok = a.Str(name, te.Value, &certFile) && ok
		case "key_file":
			ok = a.Str(name, te.Value, &keyFile) && ok
		case "ca_file":
			ok = a.Str(name, te.Value, &caFile) && ok
		case "verify":
			ok = a.Bool(name, te.Value, &verify) && ok
		case "verify_and_map":
			ok = a.Bool(name, te.Value, &ts.Map) && ok
			ts.mapKey = te
		case "timeout":
			ok = a.tlsTimeout(name, te.Value, &ts.Timeout) && ok
		case "handshake_first", "first", "immediate":
			ok = a.tlsFirst(te, &ts) && ok
		case "pinned_certs":
			ok = a.pinnedCerts(name, te.Value, &ts.Pinned) && ok
		case "connection_rate_limit":
			if te.Value.Kind != confparse.KindInt || te.Value.Int < 0 {
				a.Errorf(te.Value.Pos, ErrBadValue, "error parsing tls config, 'connection_rate_limit' wrong type")
				ok = false
				continue
			}
			ts.RateLimit = te.Value.Int
			ts.rateKey = te
		case "cipher_suites":
			ok = a.tlsNames(name, te.Value, cipherSuiteIDs, func(id uint16) { cfg.CipherSuites = append(cfg.CipherSuites, id) }) && ok
		case "curve_preferences":
			ok = a.tlsNames(name, te.Value, curveIDs, func(id uint16) { cfg.CurvePreferences = append(cfg.CurvePreferences, tls.CurveID(id)) }) && ok
		case "min_version":
			ok = a.tlsMinVersion(name, te.Value, &cfg.MinVersion) && ok
		default:
			switch {
			case te.UsedAsVariable:
			case tlsUnsupported[tk]:
				a.Errorf(te.KeyPos, ErrNotSupported, "tls %s is not supported yet", te.Key)
				ok = false
			default:
				a.Errorf(te.KeyPos, ErrUnknownField, "error parsing tls config, unknown field %q", te.Key)
				ok = false
			}
		}
	}
	if !ok {
		return ts, false
	}
	// verify_and_map implies verify, as upstream.
	var loaded *tls.Config
	var err error
	if dial && certFile == "" && keyFile == "" {
		loaded = &tls.Config{}
		if caFile != "" {
			loaded.ClientCAs, err = loadCAPool(caFile)
		}
	} else {
		loaded, err = LoadTLSConfig(TLSFiles{CertFile: certFile, KeyFile: keyFile, CAFile: caFile, Verify: verify || ts.Map})
	}
	if err != nil {
		a.Errorf(v.Pos, ErrBadValue, "%v", err)
		return ts, false
	}
	cfg.Certificates, cfg.ClientAuth, cfg.ClientCAs = loaded.Certificates, loaded.ClientAuth, loaded.ClientCAs
	ts.Config = cfg
	if len(ts.Pinned) > 0 && cfg.ClientAuth != tls.RequireAndVerifyClientCert {
		// Upstream accepts it; without a client certificate nobody passes.
		a.Warnf(v.Pos, "%s pinned_certs without verify refuses every client: clients send no certificate", key)
	}
	return ts, true
}

// tlsFirst takes upstream's forms of tls { handshake_first }: a boolean,
// "true"/"on", "false"/"off", "auto"/"auto_fallback" (handshake first,
// falling back to INFO first after DefaultTLSHandshakeFirstFallback) or a
// duration (the same with that delay).
func (a *applier) tlsFirst(te *confparse.Entry, ts *tlsSettings) bool {
	v := te.Value
	switch v.Kind {
	case confparse.KindBool:
		ts.HandshakeFirst, ts.Fallback = v.Bool, 0
	case confparse.KindString:
		switch strings.ToLower(v.Str) {
		case "true", "on":
			ts.HandshakeFirst, ts.Fallback = true, 0
		case "false", "off":
			ts.HandshakeFirst, ts.Fallback = false, 0
		case "auto", "auto_fallback":
			ts.HandshakeFirst, ts.Fallback = true, server.DefaultTLSHandshakeFirstFallback
		default:
			d, err := time.ParseDuration(v.Str)
			if err != nil || d <= 0 {
				a.Errorf(v.Pos, ErrBadValue, "field %q value %q is invalid", te.Key, v.Str)
				return false
			}
			ts.HandshakeFirst, ts.Fallback = true, d
		}
	default:
		a.Errorf(v.Pos, ErrBadValue, "field %q should be a boolean or string, got %s", te.Key, v.Describe())
		return false
	}
	ts.firstKey = te
	return true
}

// pinnedCerts takes tls { pinned_certs }: an array of hex SHA-256 digests
// of certificates' SubjectPublicKeyInfo, matched case-insensitively. An
// entry that is not such a digest matches nothing; upstream accepts it,
// so it is a warning.
func (a *applier) pinnedCerts(key string, v *confparse.Value, dst *server.PinnedCerts) bool {
	if v.Kind != confparse.KindArray {
		a.Errorf(v.Pos, ErrBadValue, "error parsing tls config, expected 'pinned_certs' to be an array")
		return false
	}
	ok := true
	var ids []string
	for _, e := range v.Array {
		var s string
		if !a.Str(key, e, &s) {
			ok = false
			continue
		}
		if b, err := hex.DecodeString(s); err != nil || len(b) != sha256.Size {
			a.Warnf(e.Pos, "%s: %q is not a hex SHA-256 digest and matches no certificate", key, s)
		}
		ids = append(ids, s)
	}
	if len(ids) > 0 {
		*dst = server.NewPinnedCerts(ids...)
	}
	return ok
}

// TLSBlock is what a tls {} block configures.
type TLSBlock struct {
	// Config holds the loaded certificate, the client verification
	// (verify, ca_file) and the negotiation settings.
	Config         *tls.Config
	Timeout        time.Duration
	Map            bool // verify_and_map
	HandshakeFirst bool // handshake_first
}

// ParseTLSBlock parses a tls {} block with the keys and checks of the
// server's own (see the tls {} section of docs/configuration.md) and loads
// its files, for the blocks of other modules; key names the block in
// messages ("cluster tls"). The errors carry file:line:col; warnings are
// dropped (DecodeTLSBlock reports them).
func ParseTLSBlock(key string, v *confparse.Value) (TLSBlock, confparse.ErrorList) {
	var d confparse.Decoder
	tb, ok := DecodeTLSBlock(&d, key, v)
	if !ok {
		return TLSBlock{}, d.Errors
	}
	return tb, nil
}

// ParseDialTLSBlock is ParseTLSBlock for the side that dials (a leaf
// node remote): as upstream's, cert_file and key_file may both be left
// out (no client certificate). ca_file, when given, is in Config.ClientCAs
// as for ParseTLSBlock; the dialer moves it to RootCAs.
func ParseDialTLSBlock(key string, v *confparse.Value) (TLSBlock, confparse.ErrorList) {
	a := applier{}
	ts, ok := a.tlsBlockFor(key, v, true)
	if !ok {
		return TLSBlock{}, a.Errors
	}
	return TLSBlock{Config: server.WithPinnedCerts(ts.Config, ts.Pinned), Timeout: ts.Timeout, Map: ts.Map, HandshakeFirst: ts.HandshakeFirst}, nil
}

// DecodeTLSBlock is ParseTLSBlock for a block handler: errors and
// warnings go to d; ok is false when the block had errors.
func DecodeTLSBlock(d *confparse.Decoder, key string, v *confparse.Value) (tb TLSBlock, ok bool) {
	a := applier{Decoder: *d}
	ts, ok := a.tlsBlock(key, v)
	*d = a.Decoder
	if !ok {
		return TLSBlock{}, false
	}
	return TLSBlock{Config: server.WithPinnedCerts(ts.Config, ts.Pinned), Timeout: ts.Timeout, Map: ts.Map, HandshakeFirst: ts.HandshakeFirst}, true
}

// tlsTimeout takes upstream's forms of tls { timeout }: seconds as an
// integer or a fraction, or a duration string.
func (a *applier) tlsTimeout(key string, v *confparse.Value, dst *time.Duration) bool {
	var d time.Duration
	switch v.Kind {
	case confparse.KindInt:
		d = time.Duration(v.Int) * time.Second
	case confparse.KindFloat:
		d = time.Duration(v.Float * float64(time.Second))
	case confparse.KindString:
		if !a.StrictDuration(key, v, &d) {
			return false
		}
	default:
		a.TypeError(key, "a number of seconds or a duration", v)
		return false
	}
	if d <= 0 {
		a.Errorf(v.Pos, ErrBadValue, "%s must be positive", key)
		return false
	}
	*dst = d
	return true
}

// cipherSuiteIDs are the suites cipher_suites may name: Go's secure ones,
// by their standard names. Insecure suites stay off, as in upstream 2.12.
var cipherSuiteIDs = func() map[string]uint16 {
	m := map[string]uint16{}
	for _, cs := range tls.CipherSuites() {
		m[cs.Name] = cs.ID
	}
	return m
}()

// curveIDs are the curves curve_preferences may name.
var curveIDs = func() map[string]uint16 {
	m := map[string]uint16{}
	for _, c := range []tls.CurveID{tls.X25519, tls.CurveP256, tls.CurveP384, tls.CurveP521, tls.X25519MLKEM768} {
		m[c.String()] = uint16(c)
	}
	return m
}()

// tlsNames takes an array of names from ids and hands each id to add.
func (a *applier) tlsNames(key string, v *confparse.Value, ids map[string]uint16, add func(uint16)) bool {
	if v.Kind != confparse.KindArray {
		a.TypeError(key, "an array of strings", v)
		return false
	}
	ok := true
	for _, e := range v.Array {
		var s string
		if !a.Str(key, e, &s) {
			ok = false
			continue
		}
		id, found := ids[s]
		if !found {
			a.Errorf(e.Pos, ErrBadValue, "%s: unsupported value %q", key, s)
			ok = false
			continue
		}
		add(id)
	}
	return ok
}

// tlsMinVersion takes "1.2" or "1.3" (a string or a number); older
// versions are refused.
func (a *applier) tlsMinVersion(key string, v *confparse.Value, dst *uint16) bool {
	var s string
	if v.Kind == confparse.KindFloat {
		s = strconv.FormatFloat(v.Float, 'f', -1, 64)
	} else if !a.Str(key, v, &s) {
		return false
	}
	switch s {
	case "1.2":
		*dst = tls.VersionTLS12
	case "1.3":
		*dst = tls.VersionTLS13
	case "1.0", "1.1":
		a.Errorf(v.Pos, ErrBadValue, "unsupported minimum TLS version: %s", s)
		return false
	default:
		a.Errorf(v.Pos, ErrBadValue, "unknown version: %s", s)
		return false
	}
	return true
}

// clientTLS applies the top-level tls {} block to the client listener.
func (a *applier) clientTLS(e *confparse.Entry) {
	ts, ok := a.tlsBlock(e.Key, e.Value)
	if !ok {
		return
	}
	o := &a.c.Options
	o.TLSConfig = ts.Config
	o.TLSTimeout = ts.Timeout
	o.TLSMap = ts.Map
	o.TLSHandshakeFirst = ts.HandshakeFirst
	o.TLSHandshakeFirstFallback = ts.Fallback
	o.TLSPinnedCerts = ts.Pinned
	o.TLSRateLimit = ts.RateLimit
}

// TLSFiles are the files and switches of a TLS listener, as the tls {}
// block and the --tlscert, --tlskey, --tlscacert and --tlsverify flags give
// them.
type TLSFiles struct {
	CertFile, KeyFile string
	// CAFile verifies client certificates; empty uses the system roots.
	CAFile string
	// Verify requires a client certificate that verifies.
	Verify bool
}

// Errors of LoadTLSConfig, with upstream's texts.
var (
	ErrTLSNoCert = errors.New("missing 'cert_file' in TLS configuration")
	ErrTLSNoKey  = errors.New("missing 'key_file' in TLS configuration")
)

// LoadTLSConfig loads f into a server tls.Config with TLS 1.2 as minimum
// and Go's secure defaults otherwise.
func LoadTLSConfig(f TLSFiles) (*tls.Config, error) {
	switch {
	case f.CertFile == "":
		return nil, ErrTLSNoCert
	case f.KeyFile == "":
		return nil, ErrTLSNoKey
	}
	cert, err := tls.LoadX509KeyPair(f.CertFile, f.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("error parsing X509 certificate/key pair: %w", err)
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	if f.Verify {
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	if f.CAFile != "" {
		if cfg.ClientCAs, err = loadCAPool(f.CAFile); err != nil {
			return nil, err
		}
	}
	return cfg, nil
}

// loadCAPool reads a ca_file.
func loadCAPool(file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("error reading ca_file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, errors.New("failed to parse root ca certificate")
	}
	return pool, nil
}
