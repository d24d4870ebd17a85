package resolver_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"
	"github.com/stretchr/testify/require"

	"natsd.dev/server/resolver"
)

// mint returns an account JWT for a new account signed by a new operator
// key.
func mint(t testing.TB, _ time.Time) (pub, tok string) {
	t.Helper()
	op, _ := nkeys.CreateOperator()
	kp, _ := nkeys.CreateAccount()
	pub, _ = kp.PublicKey()
	return pub, reissue(t, op, pub, "")
}

// reissue returns a JWT for the account pub named name, issued now (the
// JWT library sets the issue time).
func reissue(t testing.TB, op nkeys.KeyPair, pub, name string) string {
	t.Helper()
	ac := jwt.NewAccountClaims(pub)
	ac.Name = name
	tok, err := ac.Encode(op)
	require.NoError(t, err)
	return tok
}

func TestStoreFilesAndDamage(t *testing.T) {
	dir := t.TempDir()
	pub, tok := mint(t, time.Now())
	other, otherTok := mint(t, time.Now())
	require.NoError(t, os.WriteFile(filepath.Join(dir, pub+".jwt"), []byte(tok+"\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "AGARBAGE.jwt"), []byte("xx"), 0o644))
	// A JWT under another account's name is damaged too.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "AWRONG.jwt"), []byte(otherTok), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o644))
	st, damaged, err := resolver.OpenStore(dir, resolver.StoreOptions{})
	require.NoError(t, err)
	require.Len(t, damaged, 2)
	for _, d := range damaged {
		require.ErrorIs(t, d, resolver.ErrDamaged)
	}
	require.Equal(t, []string{pub}, st.List())
	got, err := st.Load(pub)
	require.NoError(t, err)
	require.Equal(t, tok, got)
	_, err = st.Load(other)
	require.ErrorIs(t, err, fs.ErrNotExist)
	_, err = st.Load("../../etc/passwd")
	require.ErrorIs(t, err, fs.ErrNotExist)

	// A file damaged after the start is reported on load.
	require.NoError(t, os.WriteFile(filepath.Join(dir, pub+".jwt"), []byte("broken"), 0o644))
	_, err = st.Load(pub)
	require.ErrorIs(t, err, resolver.ErrDamaged)
}

func TestStoreSaveIfNewerAndHash(t *testing.T) {
	op, _ := nkeys.CreateOperator()
	kp, _ := nkeys.CreateAccount()
	pub, _ := kp.PublicKey()
	now := time.Now()
	older := reissue(t, op, pub, "old")
	time.Sleep(1100 * time.Millisecond) // JWT times are in seconds
	newer := reissue(t, op, pub, "new")
	st, _, err := resolver.OpenStore(t.TempDir(), resolver.StoreOptions{})
	require.NoError(t, err)
	empty := st.Hash()
	changed, err := st.SaveIfNewer(pub, newer)
	require.NoError(t, err)
	require.True(t, changed)
	changed, err = st.SaveIfNewer(pub, older)
	require.NoError(t, err)
	require.False(t, changed, "an older JWT does not replace a newer one")
	changed, err = st.Save(pub, newer)
	require.NoError(t, err)
	require.False(t, changed, "the same JWT changes nothing")
	changed, err = st.Save(pub, older)
	require.NoError(t, err)
	require.True(t, changed, "Save replaces whatever is stored")

	// The hash depends on the JWTs, not on their order.
	p2, t2 := mint(t, now)
	_, err = st.Save(p2, t2)
	require.NoError(t, err)
	st2, _, err := resolver.OpenStore(t.TempDir(), resolver.StoreOptions{})
	require.NoError(t, err)
	_, _ = st2.Save(p2, t2)
	_, _ = st2.Save(pub, older)
	require.Equal(t, st.Hash(), st2.Hash())
	require.NotEqual(t, empty, st.Hash())
}

func TestStoreLimitsAndDelete(t *testing.T) {
	now := time.Now()
	p1, t1 := mint(t, now)
	p2, t2 := mint(t, now)
	p3, t3 := mint(t, now)

	full, _, err := resolver.OpenStore(t.TempDir(), resolver.StoreOptions{Limit: 2})
	require.NoError(t, err)
	_, _ = full.Save(p1, t1)
	_, _ = full.Save(p2, t2)
	_, err = full.Save(p3, t3)
	require.ErrorIs(t, err, resolver.ErrStoreFull)
	require.ErrorIs(t, full.Delete(p1), resolver.ErrDeleteDisabled)

	dir := t.TempDir()
	cache, _, err := resolver.OpenStore(dir, resolver.StoreOptions{Limit: 2, Evict: true, Delete: resolver.HardDelete, TTL: time.Hour})
	require.NoError(t, err)
	_, _ = cache.Save(p1, t1)
	_, _ = cache.Save(p2, t2)
	_, err = cache.Load(p1) // p2 is now the least recently used
	require.NoError(t, err)
	_, err = cache.Save(p3, t3)
	require.NoError(t, err)
	require.ElementsMatch(t, []string{p1, p3}, cache.List())
	_, err = os.Stat(filepath.Join(dir, p2+".jwt"))
	require.ErrorIs(t, err, fs.ErrNotExist)
	require.Empty(t, cache.Expire(time.Now()))
	require.ElementsMatch(t, []string{p1, p3}, cache.Expire(time.Now().Add(2*time.Hour)))
	require.Empty(t, cache.List())

	dir = t.TempDir()
	ren, _, err := resolver.OpenStore(dir, resolver.StoreOptions{Delete: resolver.RenameDeleted})
	require.NoError(t, err)
	_, _ = ren.Save(p1, t1)
	require.NoError(t, ren.Delete(p1))
	_, err = os.Stat(filepath.Join(dir, p1+".jwt.deleted"))
	require.NoError(t, err)
	require.Empty(t, ren.List())
	require.NoError(t, ren.Delete(p1), "deleting what is gone is no error")
}

func TestDeleteModeString(t *testing.T) {
	require.Equal(t, "RenameDeleted", resolver.RenameDeleted.String())
	require.Equal(t, "DeleteMode(9)", resolver.DeleteMode(9).String())
	_, _, err := resolver.OpenStore("", resolver.StoreOptions{})
	require.EqualError(t, err, "dir has no value and needs to point to a directory")
	_, err = resolver.NewFull(resolver.Options{Dir: t.TempDir(), TTL: time.Second})
	require.EqualError(t, err, "FULL does not accept ttl")
	require.False(t, errors.Is(err, resolver.ErrDamaged))
}

// FuzzStoreRoundTrip: whatever is saved under a key loads back as saved
// (trimmed) when it is a JWT for that key, and as ErrDamaged otherwise;
// the store never fails to open again.
func FuzzStoreRoundTrip(f *testing.F) {
	pub, tok := mint(f, time.Now())
	f.Add(tok)
	f.Add("garbage")
	f.Add(" " + tok + "\n")
	f.Add("a.b.c")
	f.Fuzz(func(t *testing.T, token string) {
		dir := t.TempDir()
		st, _, err := resolver.OpenStore(dir, resolver.StoreOptions{})
		require.NoError(t, err)
		if _, err := st.Save(pub, token); err != nil {
			return
		}
		got, err := st.Load(pub)
		if err != nil {
			require.ErrorIs(t, err, resolver.ErrDamaged)
		} else {
			_, _, err2 := resolver.OpenStore(dir, resolver.StoreOptions{})
			require.NoError(t, err2)
			require.NotEmpty(t, got)
		}
		_, damaged, err := resolver.OpenStore(dir, resolver.StoreOptions{})
		require.NoError(t, err)
		require.LessOrEqual(t, len(damaged), 1)
	})
}

func BenchmarkStoreLoad(b *testing.B) {
	pub, tok := mint(b, time.Now())
	st, _, err := resolver.OpenStore(b.TempDir(), resolver.StoreOptions{})
	require.NoError(b, err)
	_, _ = st.Save(pub, tok)
	b.ReportAllocs()
	b.SetBytes(int64(len(tok)))
	for b.Loop() {
		if _, err := st.Load(pub); err != nil {
			b.Fatal(err)
		}
	}
}
