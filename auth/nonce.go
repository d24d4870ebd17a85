package auth

import (
	"crypto/rand"
	"encoding/base64"
)

// NonceLen is the length of a nonce made by NewNonce: 11 random bytes in
// base64 URL encoding without padding, as upstream sends.
const NonceLen = 15

const nonceRawLen = 11

// NewNonce returns a fresh nonce for the "nonce" field of INFO, already
// encoded as text. Clients sign these bytes (the text, not the decoded
// random bytes), so the server passes the same slice as Request.Nonce.
// It reads crypto/rand, which does not fail on supported platforms.
func NewNonce() []byte {
	var raw [nonceRawLen]byte
	rand.Read(raw[:])
	n := make([]byte, NonceLen)
	base64.RawURLEncoding.Encode(n, raw[:])
	return n
}
