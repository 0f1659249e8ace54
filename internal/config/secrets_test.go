package config

import (
	"os"
	"path/filepath"
	"testing"
)

// TestSecretsRefresh: a rotated IVR_SECRET_NAME_FILE is read again by
// Refresh (no restart); a file caught empty mid-rotation keeps the last
// good value; a secret that was missing is picked up once its file exists.
func TestSecretsRefresh(t *testing.T) {
	dir := t.TempDir()
	tok, other := filepath.Join(dir, "tok"), filepath.Join(dir, "other")
	write := func(path, v string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(v), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(tok, "one\n")
	env := map[string]string{"IVR_SECRET_TOK_FILE": tok, "IVR_SECRET_OTHER_FILE": other}
	s := NewSecrets(func(k string) string { return env[k] })
	get := func(name, want string, wantOK bool) {
		t.Helper()
		if v, ok := s.Get(name); v != want || ok != wantOK {
			t.Fatalf("Get(%s) = %q, %v; want %q, %v", name, v, ok, want, wantOK)
		}
	}
	get("TOK", "one", true)
	get("OTHER", "", false)
	write(tok, "two\n")
	get("TOK", "one", true) // read once until refreshed
	s.Refresh()
	get("TOK", "two", true)
	write(tok, "")
	write(other, "later")
	s.Refresh()
	get("TOK", "two", true)
	get("OTHER", "later", true)
	write(tok, "three")
	s.Refresh()
	get("TOK", "three", true)
	var none *Secrets
	none.Refresh() // no secrets configured: nothing to do
}
