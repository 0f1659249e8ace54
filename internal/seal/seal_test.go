package seal

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"
)

func testBox(t testing.TB) *Box {
	t.Helper()
	b, err := New(bytes.Repeat([]byte{7}, KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSealOpen(t *testing.T) {
	b := testBox(t)
	for _, plain := range [][]byte{nil, []byte("a"), []byte(`{"account":"12345678"}`), bytes.Repeat([]byte("x"), 1000)} {
		tok := b.Seal(plain)
		if strings.ContainsAny(tok, "+/=%&?# ") {
			t.Errorf("token %q is not URL-safe", tok)
		}
		if len(plain) > 8 && strings.Contains(tok, string(plain)) {
			t.Errorf("token carries the plain text")
		}
		got, err := b.Open(tok)
		if err != nil || !bytes.Equal(got, plain) {
			t.Errorf("Open(Seal(%q)) = %q, %v", plain, got, err)
		}
	}
	first := b.Seal([]byte("same"))
	if second := b.Seal([]byte("same")); first == second {
		t.Error("two seals of the same value are equal: the nonce is not random")
	}
}

func TestOpenRefuses(t *testing.T) {
	b := testBox(t)
	other, err := NewRandom()
	if err != nil {
		t.Fatal(err)
	}
	tok := b.Seal([]byte("account=12345678"))
	raw, _ := base64.RawURLEncoding.DecodeString(tok)
	cases := map[string]string{
		"empty":     "",
		"garbage":   "not a token!",
		"short":     tok[:10],
		"cut":       tok[:len(tok)-1],
		"other key": other.Seal([]byte("account=12345678")),
		"too long":  strings.Repeat("A", MaxToken+1),
		"padded":    tok + "=",
	}
	for i := range raw {
		flipped := bytes.Clone(raw)
		flipped[i] ^= 1
		cases["flip "+string(rune('a'+i%26))+string(rune('0'+i/26))] = base64.RawURLEncoding.EncodeToString(flipped)
	}
	for name, tk := range cases {
		if got, err := b.Open(tk); err == nil {
			t.Errorf("%s: Open = %q, want an error", name, got)
		}
	}
}

func TestParseKey(t *testing.T) {
	key := bytes.Repeat([]byte{0xAB}, KeySize)
	for _, s := range []string{
		hex.EncodeToString(key),
		strings.ToUpper(hex.EncodeToString(key)),
		base64.StdEncoding.EncodeToString(key),
		base64.RawURLEncoding.EncodeToString(key),
		"  " + hex.EncodeToString(key) + "\n",
	} {
		got, err := ParseKey(s)
		if err != nil || !bytes.Equal(got, key) {
			t.Errorf("ParseKey(%q) = %x, %v", s, got, err)
		}
	}
	for _, s := range []string{"", "short", hex.EncodeToString(key[:16]), base64.StdEncoding.EncodeToString(key[:31]), strings.Repeat("z", 64)} {
		if _, err := ParseKey(s); err == nil {
			t.Errorf("ParseKey(%q) accepted", s)
		}
	}
	if _, err := New(key[:16]); err == nil {
		t.Error("New accepted a 16-byte key")
	}
}

func FuzzOpen(f *testing.F) {
	b := testBox(f)
	f.Add(b.Seal([]byte("v=1")))
	f.Add("")
	f.Add("AAAA")
	f.Fuzz(func(t *testing.T, tok string) {
		plain, err := b.Open(tok)
		if err != nil {
			return
		}
		// Only a real token opens; it must open again to the same value.
		again, err := b.Open(b.Seal(plain))
		if err != nil || !bytes.Equal(again, plain) {
			t.Fatalf("reseal of %q: %q, %v", plain, again, err)
		}
	})
}

func BenchmarkSealOpen(b *testing.B) {
	box := testBox(b)
	plain := []byte(`{"account":"12345678","balance":"42.50","status":"active"}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := box.Open(box.Seal(plain)); err != nil {
			b.Fatal(err)
		}
	}
}

func TestSealFor(t *testing.T) {
	b, err := NewRandom()
	if err != nil {
		t.Fatal(err)
	}
	tok := b.SealFor([]byte("x"), []byte("twilio\x00CA1"))
	if got, err := b.OpenFor(tok, []byte("twilio\x00CA1")); err != nil || string(got) != "x" {
		t.Fatalf("same data: %q %v", got, err)
	}
	for _, ad := range [][]byte{nil, []byte("twilio\x00CA2"), []byte("plivo\x00CA1")} {
		if _, err := b.OpenFor(tok, ad); err == nil {
			t.Errorf("opened with %q", ad)
		}
	}
	if _, err := b.Open(tok); err == nil {
		t.Error("a bound token opened unbound")
	}
}
