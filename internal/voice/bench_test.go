package voice

import (
	"net/http"
	"testing"
)

// BenchmarkVoiceHeaders is setting the answer's two headers: Header().Set
// (canonicalises the key, allocates a slice) against assigning the
// provider's preallocated slices, as HandleVoice does.
func BenchmarkVoiceHeaders(b *testing.B) {
	ct, ns := []string{"text/xml"}, []string{"no-store"}
	b.Run("Set", func(b *testing.B) {
		h := http.Header{}
		b.ReportAllocs()
		for b.Loop() {
			clear(h)
			h.Set("Content-Type", "text/xml")
			h.Set("Cache-Control", "no-store")
		}
	})
	b.Run("assigned", func(b *testing.B) {
		h := http.Header{}
		b.ReportAllocs()
		for b.Loop() {
			clear(h)
			h["Content-Type"] = ct[:1:1]
			h["Cache-Control"] = ns[:1:1]
		}
	})
}
