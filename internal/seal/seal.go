// Package seal seals small values (a call's variables) into URL-safe tokens
// with authenticated encryption: AES-256-GCM, a random 96-bit nonce per seal,
// base64url without padding. A token that was changed, cut, or sealed with
// another key does not open.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// KeySize is the key length in bytes (AES-256).
const KeySize = 32

// MaxToken is the longest token Open reads; longer input is refused before
// decoding.
const MaxToken = 4096

// Box seals and opens tokens with one key. It is safe for concurrent use.
type Box struct {
	aead cipher.AEAD
}

// New returns a Box for a 32-byte key.
func New(key []byte) (*Box, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("seal: key is %d bytes, want %d (64 hex digits or 44 base64 characters)", len(key), KeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	return &Box{aead: aead}, nil
}

// NewRandom returns a Box with a fresh random key (local mode: tokens do not
// survive a restart or open on another instance).
func NewRandom() (*Box, error) {
	key := make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("seal: random key: %w", err)
	}
	return New(key)
}

// ParseKey reads a 32-byte key written as 64 hex digits or as base64
// (standard or URL alphabet, padded or not). Surrounding space is ignored.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if len(s) == 2*KeySize {
		if k, err := hex.DecodeString(s); err == nil {
			return k, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(s); err == nil && len(k) == KeySize {
			return k, nil
		}
	}
	return nil, errors.New("seal: the key must be 32 bytes written as 64 hex digits or base64 (make one with: openssl rand -hex 32)")
}

// Seal encrypts and authenticates plain into a URL-safe token.
func (b *Box) Seal(plain []byte) string { return b.SealFor(plain, nil) }

// SealFor is Seal with additional data ad (e.g. the call the token belongs
// to): ad is authenticated, not stored, and the token opens only with the
// same ad (OpenFor).
func (b *Box) SealFor(plain, ad []byte) string {
	ns := b.aead.NonceSize()
	buf := make([]byte, ns, ns+len(plain)+b.aead.Overhead())
	if _, err := rand.Read(buf); err != nil {
		// crypto/rand.Read does not fail on supported platforms (it
		// crashes the program instead); keep the nonce unique regardless.
		panic("seal: random nonce: " + err.Error())
	}
	buf = b.aead.Seal(buf, buf[:ns], plain, ad)
	return base64.RawURLEncoding.EncodeToString(buf)
}

// ErrOpen is returned for every token that does not open: changed, cut,
// sealed with another key, or not a token at all.
var ErrOpen = errors.New("seal: the token does not open (changed, or sealed with another key)")

// Open checks and decrypts a token made by Seal with the same key.
func (b *Box) Open(token string) ([]byte, error) { return b.OpenFor(token, nil) }

// OpenFor checks and decrypts a token made by SealFor with the same key and
// the same additional data.
func (b *Box) OpenFor(token string, ad []byte) ([]byte, error) {
	if len(token) > MaxToken {
		return nil, ErrOpen
	}
	raw, err := base64.RawURLEncoding.DecodeString(token)
	ns := b.aead.NonceSize()
	if err != nil || len(raw) < ns+b.aead.Overhead() {
		return nil, ErrOpen
	}
	plain, err := b.aead.Open(nil, raw[:ns], raw[ns:], ad)
	if err != nil {
		return nil, ErrOpen
	}
	return plain, nil
}
