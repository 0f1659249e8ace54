package guard

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSecret(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tokenFile := write("token", "abc123\n")
	crlfFile := write("crlf", "abc123\r\n\r\n")
	spacesFile := write("spaces", "  abc 123  \n")
	emptyFile := write("empty", "\n")
	missing := filepath.Join(dir, "missing")

	tests := []struct {
		name    string
		env     map[string]string
		want    string
		wantErr []string // substrings; nil = no error
	}{
		{"unset", nil, "", nil},
		{"value", map[string]string{"TOK": "abc123"}, "abc123", nil},
		{"value kept as is", map[string]string{"TOK": "abc123\n"}, "abc123\n", nil},
		{"file", map[string]string{"TOK_FILE": tokenFile}, "abc123", nil},
		{"file CRLF trimmed", map[string]string{"TOK_FILE": crlfFile}, "abc123", nil},
		{"file spaces kept", map[string]string{"TOK_FILE": spacesFile}, "  abc 123  ", nil},
		{"both set", map[string]string{"TOK": "x", "TOK_FILE": tokenFile}, "", []string{"set TOK or TOK_FILE, not both"}},
		{"missing file", map[string]string{"TOK_FILE": missing}, "", []string{"TOK_FILE", missing}},
		{"empty file", map[string]string{"TOK_FILE": emptyFile}, "", []string{"TOK_FILE", "empty"}},
		{"directory", map[string]string{"TOK_FILE": dir}, "", []string{"TOK_FILE", dir}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			getenv := func(k string) string { return tt.env[k] }
			got, err := Secret(getenv, "TOK")
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Secret: %v", err)
				}
				if got != tt.want {
					t.Errorf("Secret = %q, want %q", got, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("Secret = %q, want an error", got)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "abc123") {
				t.Errorf("error %q leaks the secret", err)
			}
		})
	}
}

func TestSecretMissingFileIsNotExist(t *testing.T) {
	_, err := Secret(func(k string) string {
		if k == "TOK_FILE" {
			return filepath.Join(t.TempDir(), "nope")
		}
		return ""
	}, "TOK")
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("error %v should wrap fs.ErrNotExist", err)
	}
}

func TestSecretTooLarge(t *testing.T) {
	p := filepath.Join(t.TempDir(), "big")
	if err := os.WriteFile(p, make([]byte, maxSecretFile+1), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Secret(func(k string) string {
		if k == "TOK_FILE" {
			return p
		}
		return ""
	}, "TOK")
	if err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("error = %v, want a size error", err)
	}
}
