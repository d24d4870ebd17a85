package jetstream_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"

	"natsd.dev/jetstream"
	"natsd.dev/server"
	"natsd.dev/server/servertest"
)

// In operator mode an account gets JetStream with its JWT's limits when
// the server builds it, and a new JWT replaces them live.
func TestJetStreamLimitsFromAccountJWT(t *testing.T) {
	opKP, _ := nkeys.CreateOperator()
	opPub, _ := opKP.PublicKey()
	accKP, _ := nkeys.CreateAccount()
	accPub, _ := accKP.PublicKey()
	offKP, _ := nkeys.CreateAccount()
	offPub, _ := offKP.PublicKey()
	accJWT := func(streams int64) string {
		ac := jwt.NewAccountClaims(accPub)
		ac.Limits.JetStreamTieredLimits["R1"] = jwt.JetStreamLimits{MemoryStorage: -1, DiskStorage: -1, Streams: streams, Consumer: -1}
		tok, err := ac.Encode(opKP)
		must(t, err)
		return tok
	}
	offJWT, err := jwt.NewAccountClaims(offPub).Encode(opKP)
	must(t, err)
	resolver := server.NewMemoryResolver(map[string]string{accPub: accJWT(1), offPub: offJWT})
	s := servertest.Start(t, server.Options{Operator: &server.OperatorOptions{TrustedKeys: []string{opPub}, Resolver: resolver}})
	js, err := jetstream.Start(s, jetstream.Options{StoreDir: t.TempDir()})
	must(t, err)
	t.Cleanup(func() { _ = js.Shutdown(context.Background()) })

	user := func(acc nkeys.KeyPair) *nats.Conn {
		ukp, _ := nkeys.CreateUser()
		upub, _ := ukp.PublicKey()
		tok, err := jwt.NewUserClaims(upub).Encode(acc)
		must(t, err)
		seed, _ := ukp.Seed()
		return servertest.Connect(t, s, nats.UserJWTAndSeed(tok, string(seed)))
	}
	nc := user(accKP)
	jsc, err := njs.New(nc)
	must(t, err)
	info, err := jsc.AccountInfo(ctx(t))
	must(t, err)
	if info.Limits.MaxStreams != 1 {
		t.Fatalf("max streams %d", info.Limits.MaxStreams)
	}
	_, err = jsc.CreateStream(ctx(t), njs.StreamConfig{Name: "A", Subjects: []string{"a"}, Storage: njs.MemoryStorage})
	must(t, err)
	_, err = jsc.CreateStream(ctx(t), njs.StreamConfig{Name: "B", Subjects: []string{"b"}, Storage: njs.MemoryStorage})
	if err == nil || !strings.Contains(err.Error(), "maximum number of streams reached") {
		t.Fatalf("a second stream: %v", err)
	}

	// A new JWT raises the limit for the connected user at once.
	must(t, s.UpdateAccountClaims(accJWT(2)))
	_, err = jsc.CreateStream(ctx(t), njs.StreamConfig{Name: "B", Subjects: []string{"b"}, Storage: njs.MemoryStorage})
	must(t, err)

	// A JWT with disk storage only: memory streams are refused, as
	// upstream.
	diskKP, _ := nkeys.CreateAccount()
	diskPub, _ := diskKP.PublicKey()
	dc := jwt.NewAccountClaims(diskPub)
	dc.Limits.JetStreamLimits = jwt.JetStreamLimits{DiskStorage: -1, Streams: -1, Consumer: -1}
	diskJWT, err := dc.Encode(opKP)
	must(t, err)
	resolver.Store(diskPub, diskJWT)
	disk, err := njs.New(user(diskKP))
	must(t, err)
	_, err = disk.CreateStream(ctx(t), njs.StreamConfig{Name: "M", Subjects: []string{"m"}, Storage: njs.MemoryStorage})
	if err == nil || !strings.Contains(err.Error(), "insufficient memory resources available") {
		t.Fatalf("a memory stream without memory storage: %v", err)
	}
	_, err = disk.CreateStream(ctx(t), njs.StreamConfig{Name: "F", Subjects: []string{"f"}, Storage: njs.FileStorage})
	must(t, err)

	// An account whose JWT does not enable JetStream.
	off, err := njs.New(user(offKP))
	must(t, err)
	_, err = off.AccountInfo(ctx(t))
	if !errors.Is(err, njs.ErrJetStreamNotEnabledForAccount) {
		t.Fatalf("account info without JetStream: %v", err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
