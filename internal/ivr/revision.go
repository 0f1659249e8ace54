package ivr

import (
	"crypto/sha256"
	"encoding/hex"
)

// Revision names the version of the flow a call ran on; call events carry
// it so insights can tell (and compare) flow versions. It is the first 12
// hex digits of the SHA-256 of the flow file's text: stable across restarts
// and instances, and changed by any edit. A published revision number can
// replace it here without changing what records it.
func (f *Flow) Revision() string { return f.revision }

// contentRevision is the revision of a flow file's text.
func contentRevision(text []byte) string {
	sum := sha256.Sum256(text)
	return hex.EncodeToString(sum[:6])
}

// Text is the flow's text as it was parsed.
func (f *Flow) Text() []byte { return f.text }
