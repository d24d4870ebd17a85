package auth_test

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/nats-io/nkeys"
	"golang.org/x/crypto/bcrypt"

	"natsd.dev/auth"
)

func hash(t testing.TB, pw string) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return string(h)
}

// nkeyUser makes a user key pair and returns its public key and a
// function signing a nonce as nats.go does.
func nkeyUser(t testing.TB) (string, func(nonce []byte) string) {
	t.Helper()
	kp, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	pub, err := kp.PublicKey()
	if err != nil {
		t.Fatal(err)
	}
	return pub, func(nonce []byte) string {
		sig, err := kp.Sign(nonce)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(sig)
	}
}

func TestIsBcrypt(t *testing.T) {
	for s, want := range map[string]bool{
		"$2a$11$3kIDaCxw.Glsl1.u5nKa6eUnNDLV5HV9tIuUp7EHhMt6Nm9myW1aS": true,
		"$2b$04$x":  true,
		"$2y$10$":   true,
		"$2x$10$":   true,
		"$2c$10$":   false,
		"$2a$1$":    false,
		"$2a$ab$":   false,
		"2a$11$abc": false,
		"":          false,
		"$":         false,
		"s3cr3t":    false,
	} {
		if got := auth.IsBcrypt(s); got != want {
			t.Errorf("IsBcrypt(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestToken(t *testing.T) {
	tests := []struct {
		name, configured, given string
		wantErr                 error // nil: success
	}{
		{"plain ok", "s3cr3t", "s3cr3t", nil},
		{"plain wrong", "s3cr3t", "s3cr3T", auth.ErrAuthorization},
		{"plain prefix", "s3cr3t", "s3cr3", auth.ErrAuthorization},
		{"none given", "s3cr3t", "", auth.ErrNoMatch},
		{"bcrypt ok", hash(t, "s3cr3t"), "s3cr3t", nil},
		{"bcrypt wrong", hash(t, "s3cr3t"), "nope", auth.ErrAuthorization},
		{"bcrypt hash given as token", "$2a$04$abc", "$2a$04$abc", auth.ErrAuthorization},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := auth.NewToken(tt.configured).Authenticate(&auth.Request{Token: tt.given})
			checkResult(t, id, err, tt.wantErr)
			if err != nil && !errors.Is(err, auth.ErrAuthorization) {
				t.Errorf("error %v does not wrap ErrAuthorization", err)
			}
			if err != nil && strings.Contains(err.Error(), tt.configured) && tt.configured != tt.given {
				t.Errorf("error %q leaks the configured token", err)
			}
		})
	}
}

func checkResult(t *testing.T, id *auth.Identity, err, wantErr error) {
	t.Helper()
	switch {
	case wantErr == nil && err != nil:
		t.Fatalf("unexpected error %v", err)
	case wantErr == nil && id == nil:
		t.Fatal("nil identity without error")
	case wantErr != nil && !errors.Is(err, wantErr):
		t.Fatalf("error %v, want %v", err, wantErr)
	case wantErr != nil && id != nil:
		t.Fatal("identity with error")
	}
	if wantErr == auth.ErrAuthorization && errors.Is(err, auth.ErrNoMatch) {
		t.Fatalf("error %v is ErrNoMatch, want a definite failure", err)
	}
}

func TestUsers(t *testing.T) {
	pub, sign := nkeyUser(t)
	otherPub, otherSign := nkeyUser(t)
	nonce := auth.NewNonce()
	admin := &auth.Permissions{Publish: &auth.SubjectPermission{Allow: []string{">"}}}
	users, err := auth.NewUsers([]auth.User{
		{Name: "alice", Password: "pw1", Account: "A", Permissions: admin},
		{Name: "bob", Password: hash(t, "pw2"), Permissions: admin},
		{Name: "ws", Password: "pw3", AllowedConnectionTypes: []auth.ConnKind{auth.KindWebsocket}},
		{Nkey: pub, Account: "B"},
		{Name: "guest", Password: "guest-pw", AllowedConnectionTypes: []auth.ConnKind{auth.KindStandard}},
	}, "guest")
	if err != nil {
		t.Fatal(err)
	}
	if !users.NeedsNonce() {
		t.Error("NeedsNonce false with nkey users")
	}
	tests := []struct {
		name    string
		req     auth.Request
		wantErr error
		wantID  string
		wantAcc string
	}{
		{"plain ok", auth.Request{User: "alice", Password: "pw1"}, nil, "alice", "A"},
		{"plain wrong", auth.Request{User: "alice", Password: "pw2"}, auth.ErrAuthorization, "", ""},
		{"plain empty password", auth.Request{User: "alice"}, auth.ErrAuthorization, "", ""},
		{"bcrypt ok", auth.Request{User: "bob", Password: "pw2"}, nil, "bob", ""},
		{"bcrypt wrong", auth.Request{User: "bob", Password: "pw1"}, auth.ErrAuthorization, "", ""},
		{"bcrypt hash as password", auth.Request{User: "bob", Password: hash(t, "pw2")}, auth.ErrAuthorization, "", ""},
		{"unknown user", auth.Request{User: "mallory", Password: "pw1"}, auth.ErrAuthorization, "", ""},
		{"conn type ok", auth.Request{Kind: auth.KindWebsocket, User: "ws", Password: "pw3"}, nil, "ws", ""},
		{"conn type denied", auth.Request{Kind: auth.KindStandard, User: "ws", Password: "pw3"}, auth.ErrAuthorization, "", ""},
		{"nkey ok", auth.Request{Nkey: pub, Sig: sign(nonce), Nonce: nonce}, nil, pub, "B"},
		{"nkey std base64 sig", auth.Request{Nkey: pub, Sig: stdSig(sign(nonce)), Nonce: nonce}, nil, pub, "B"},
		{"nkey wrong nonce", auth.Request{Nkey: pub, Sig: sign([]byte("other")), Nonce: nonce}, auth.ErrAuthorization, "", ""},
		{"nkey no nonce", auth.Request{Nkey: pub, Sig: sign(nil)}, auth.ErrAuthorization, "", ""},
		{"nkey signed by other key", auth.Request{Nkey: pub, Sig: otherSign(nonce), Nonce: nonce}, auth.ErrAuthorization, "", ""},
		{"nkey unknown", auth.Request{Nkey: otherPub, Sig: otherSign(nonce), Nonce: nonce}, auth.ErrAuthorization, "", ""},
		{"nkey garbage sig", auth.Request{Nkey: pub, Sig: "!!!", Nonce: nonce}, auth.ErrAuthorization, "", ""},
		{"no_auth_user", auth.Request{}, nil, "guest", ""},
		{"no_auth_user wrong conn type", auth.Request{Kind: auth.KindMQTT}, auth.ErrAuthorization, "", ""},
		{"token is not no_auth", auth.Request{Token: "x"}, auth.ErrNoMatch, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := users.Authenticate(&tt.req)
			checkResult(t, id, err, tt.wantErr)
			if err == nil && (id.Name != tt.wantID || id.Account != tt.wantAcc) {
				t.Errorf("identity %q in %q, want %q in %q", id.Name, id.Account, tt.wantID, tt.wantAcc)
			}
		})
	}
	a, _ := users.Authenticate(&auth.Request{User: "alice", Password: "pw1"})
	b, _ := users.Authenticate(&auth.Request{User: "bob", Password: "pw2"})
	if a.Checker == nil || a.Checker != b.Checker || a.Permissions != admin {
		t.Error("users sharing Permissions do not share one Checker")
	}
}

func stdSig(raw string) string {
	b, _ := base64.RawURLEncoding.DecodeString(raw)
	return base64.StdEncoding.EncodeToString(b)
}

func TestNewUsersErrors(t *testing.T) {
	pub, _ := nkeyUser(t)
	bad := &auth.Permissions{Publish: &auth.SubjectPermission{Allow: []string{"foo..bar"}}}
	tests := []struct {
		name   string
		users  []auth.User
		noAuth string
	}{
		{"no name", []auth.User{{Password: "x"}}, ""},
		{"name and nkey", []auth.User{{Name: "a", Nkey: pub}}, ""},
		{"bad nkey", []auth.User{{Nkey: "UABC"}}, ""},
		{"account key", []auth.User{{Nkey: "ADUMMY"}}, ""},
		{"duplicate user", []auth.User{{Name: "a"}, {Name: "a"}}, ""},
		{"duplicate nkey", []auth.User{{Nkey: pub}, {Nkey: pub}}, ""},
		{"bad permissions", []auth.User{{Name: "a", Permissions: bad}}, ""},
		{"unknown no_auth_user", []auth.User{{Name: "a"}}, "b"},
		{"no_auth_user is nkey", []auth.User{{Nkey: pub}}, pub},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := auth.NewUsers(tt.users, tt.noAuth); err == nil {
				t.Fatal("no error")
			}
		})
	}
}

func TestChain(t *testing.T) {
	users, err := auth.NewUsers([]auth.User{{Name: "alice", Password: "pw"}}, "")
	if err != nil {
		t.Fatal(err)
	}
	chain := auth.Chain{users, auth.NewToken("tok")}
	if chain.NeedsNonce() {
		t.Error("NeedsNonce without nkey users")
	}
	tests := []struct {
		name    string
		req     auth.Request
		wantErr error
	}{
		{"user", auth.Request{User: "alice", Password: "pw"}, nil},
		{"token after users", auth.Request{Token: "tok"}, nil},
		{"wrong password stops the chain", auth.Request{User: "alice", Password: "x", Token: "tok"}, auth.ErrAuthorization},
		{"nothing", auth.Request{}, auth.ErrNoMatch},
		{"wrong token", auth.Request{Token: "x"}, auth.ErrAuthorization},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := chain.Authenticate(&tt.req)
			checkResult(t, id, err, tt.wantErr)
		})
	}
	if _, err := (auth.Chain{}).Authenticate(&auth.Request{Token: "tok"}); !errors.Is(err, auth.ErrNoMatch) {
		t.Errorf("empty chain: %v", err)
	}
	f := auth.AuthenticatorFunc(func(*auth.Request) (*auth.Identity, error) { return &auth.Identity{Name: "f"}, nil })
	if id, err := (auth.Chain{auth.NewToken("t"), f}).Authenticate(&auth.Request{}); err != nil || id.Name != "f" {
		t.Errorf("AuthenticatorFunc in chain: %v %v", id, err)
	}
}

func TestConnKind(t *testing.T) {
	for k, name := range map[auth.ConnKind]string{
		auth.KindStandard: "STANDARD", auth.KindWebsocket: "WEBSOCKET", auth.KindMQTT: "MQTT",
		auth.KindMQTTWebsocket: "MQTT_WS", auth.KindLeafnode: "LEAFNODE",
		auth.KindLeafnodeWebsocket: "LEAFNODE_WS", auth.KindInProcess: "IN_PROCESS",
	} {
		if k.String() != name {
			t.Errorf("%d.String() = %q, want %q", k, k.String(), name)
		}
		for _, s := range []string{name, strings.ToLower(name)} {
			if got, err := auth.ParseConnKind(s); err != nil || got != k {
				t.Errorf("ParseConnKind(%q) = %v, %v", s, got, err)
			}
		}
	}
	if _, err := auth.ParseConnKind("ROUTER"); !errors.Is(err, auth.ErrUnknownConnKind) {
		t.Errorf("ParseConnKind(ROUTER): %v", err)
	}
	if s := auth.ConnKind(200).String(); s != "UNKNOWN" {
		t.Errorf("out of range kind: %q", s)
	}
}

func TestNonce(t *testing.T) {
	a, b := auth.NewNonce(), auth.NewNonce()
	if len(a) != auth.NonceLen || string(a) == string(b) {
		t.Fatalf("nonces %q %q", a, b)
	}
	if _, err := base64.RawURLEncoding.DecodeString(string(a)); err != nil {
		t.Fatalf("nonce %q is not base64 URL: %v", a, err)
	}
	pub, sign := nkeyUser(t)
	if err := auth.VerifyNonce(pub, sign(a), a); err != nil {
		t.Fatal(err)
	}
	if err := auth.VerifyNonce(pub, sign(a), b); !errors.Is(err, auth.ErrAuthorization) {
		t.Fatalf("wrong nonce: %v", err)
	}
	if err := auth.VerifyNonce("not-a-key", sign(a), a); !errors.Is(err, auth.ErrAuthorization) {
		t.Fatalf("bad key: %v", err)
	}
}
