package carrier

import (
	"crypto/rand"
	"encoding/hex"
)

// NewCallID makes a call id as provider does: Twilio "CA" and 32 hex
// digits, Plivo a random UUID.
func NewCallID(provider string) string {
	if provider == Twilio {
		return "CA" + RandomHex(16)
	}
	return NewUUID()
}

// NewAccountSid makes a Twilio account id: "AC" and 32 hex digits.
func NewAccountSid() string { return "AC" + RandomHex(16) }

// RandomHex is n random bytes in hex.
func RandomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand, Go 1.24+)
	return hex.EncodeToString(b)
}

// NewUUID is a random (version 4) UUID.
func NewUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// NewNonce is a Plivo-style nonce: 20 random decimal digits.
func NewNonce() string {
	b := make([]byte, 20)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = '0' + b[i]%10
	}
	return string(b)
}
