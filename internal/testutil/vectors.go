package testutil

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// VectorsFile is where the signature vectors live, from the module root:
// webhook requests signed by the providers' own SDKs (public data).
const VectorsFile = "testdata/vectors/signatures.json"

// VectorTokens are the credentials the vectors were signed with.
type VectorTokens struct {
	Twilio          string `json:"twilio_auth_token"`
	TwilioSecondary string `json:"twilio_auth_token_secondary"`
	Plivo           string `json:"plivo_auth_token"`
	PlivoMaster     string `json:"plivo_master_auth_token"`
	PublicBase      string `json:"public_base_url"`
}

// Vector is one signed webhook request and whether its signature is valid.
type Vector struct {
	Name     string            `json:"name"`
	Provider string            `json:"provider"`
	Method   string            `json:"method"`
	URL      string            `json:"url"`
	Headers  map[string]string `json:"headers"`
	Body     string            `json:"body"`
	Valid    bool              `json:"valid"`
	Note     string            `json:"note"`
}

// VectorSet is the whole file.
type VectorSet struct {
	Tokens  VectorTokens `json:"tokens"`
	Vectors []Vector     `json:"vectors"`
}

// LoadVectors reads the signature vectors. A missing file skips the test
// loudly, or fails it with CI=true; an unreadable or empty one fails it.
func LoadVectors(t testing.TB) VectorSet {
	t.Helper()
	path := filepath.Join(ModuleRoot(t), filepath.FromSlash(VectorsFile))
	data, err := os.ReadFile(path)
	if err != nil {
		SkipOrFail(t, "signature vectors not found at "+path+": "+err.Error())
	}
	var vs VectorSet
	if err := json.Unmarshal(data, &vs); err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	if len(vs.Vectors) == 0 {
		t.Fatalf("%s holds no vectors", path)
	}
	return vs
}

// ModuleRoot returns the directory holding go.mod, found upwards from the
// test's working directory (its package's folder).
func ModuleRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's working directory")
		}
		dir = parent
	}
}
