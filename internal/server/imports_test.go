package server

import (
	"go/build"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestImportRules keeps the package boundaries of the README's code map:
// what each package may never import (production files; tests may).
func TestImportRules(t *testing.T) {
	const mod = "github.com/ivr-project/ivr/"
	never := map[string][]string{
		"internal/voice":   {"internal/admin", "internal/server"},
		"internal/admin":   {"internal/server"},
		"internal/httpobs": {"internal/voice", "internal/admin", "internal/server", "internal/store", "internal/ivr"},
		"internal/ivr":     {"net/http", "os", mod + "internal/"},
		"internal/auth":    {"internal/ivr", "internal/xml", "internal/store", "internal/server"},
		"internal/guard":   {"internal/ivr", "internal/xml", "internal/server"},
		"internal/xml":     {"internal/auth", "internal/store", "internal/server", "internal/publish"},
		"internal/replay":  {"internal/server", "internal/voice", "internal/admin", "internal/publish", "internal/auth"},
		"internal/store":   {"internal/xml", "internal/auth", "internal/server"},
		"internal/publish": {"internal/xml", "internal/server", "internal/voice", "internal/admin"},
		"internal/config":  {"internal/server", "internal/store", "internal/ivr"},
	}
	for dir, banned := range never {
		pkg, err := build.ImportDir(filepath.Join("..", "..", dir), 0)
		if err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		for _, imp := range pkg.Imports {
			if slices.ContainsFunc(banned, func(b string) bool {
				if strings.HasSuffix(b, "/") {
					return strings.HasPrefix(imp, b)
				}
				return imp == b || imp == mod+b
			}) {
				t.Errorf("%s imports %s, which it must never import", dir, imp)
			}
		}
	}
}
