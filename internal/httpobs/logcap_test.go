package httpobs

import (
	"strings"
	"testing"
)

func TestCapStringKeepsCharacters(t *testing.T) {
	s := strings.Repeat("é", maxLogValue) // 2 bytes each: the cut falls inside one
	got := capString(s)
	if !strings.HasSuffix(got, "…(1024 bytes)") || !strings.HasPrefix(got, "éé") {
		t.Errorf("capString = %.40q…%q", got, got[len(got)-20:])
	}
	if !strings.Contains(got[:maxLogValue], "é") || strings.ContainsRune(got, '\uFFFD') {
		t.Errorf("capString cut a character in two")
	}
}
