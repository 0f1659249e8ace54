package ivr

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/check/*.golden")

// TestCheckGolden parses every broken flow under testdata/check and compares
// the problem list with its .golden file (go test -update rewrites them).
func TestCheckGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/check/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test files: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			_, err := Load(file)
			var ps Problems
			if !errors.As(err, &ps) {
				t.Fatalf("Load(%s) = %v, want Problems", file, err)
			}
			got := ps.Error() + "\n"
			golden := strings.TrimSuffix(file, ".yaml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("problems differ from %s:\n--- got\n%s--- want\n%s", golden, got, want)
			}
			for _, p := range ps {
				if p.File != file || p.Msg == "" {
					t.Errorf("problem %+v: want File %q and a message", p, file)
				}
			}
		})
	}
}

func TestExampleIsClean(t *testing.T) {
	if _, err := Parse("example.yaml", Example()); err != nil {
		t.Fatalf("example has problems:\n%v", err)
	}
	// Example returns a copy.
	b := Example()
	b[0] = 'X'
	if Example()[0] == 'X' {
		t.Error("Example shares its bytes")
	}
}

func TestProblemString(t *testing.T) {
	p := Problem{File: "f.yaml", Line: 3, Col: 7, Msg: "bad"}
	if p.String() != "f.yaml:3:7: bad" {
		t.Error(p.String())
	}
	if s := (Problem{File: "f.yaml", Msg: "empty"}).String(); s != "f.yaml: empty" {
		t.Error(s)
	}
	ps := Problems{p, p}
	if ps.Error() != "f.yaml:3:7: bad\nf.yaml:3:7: bad" {
		t.Error(ps.Error())
	}
}

func TestLoadErrors(t *testing.T) {
	big := make([]byte, MaxFileSize+1)
	if _, err := Parse("big.yaml", big); err == nil {
		t.Error("oversized file accepted")
	}
}

// A misspelt key is the cause of what follows from it: it is listed first,
// before the missing greeting it leads to (issue 27: the first message was
// the consequence).
func TestCheckMisspeltKeyFirst(t *testing.T) {
	_, err := Parse("f.yaml", []byte("entry: main\nmenus:\n  main:\n    greting: \"Hello\"\n    options:\n      \"1\": hangup\n"))
	var ps Problems
	if !errors.As(err, &ps) || len(ps) < 2 {
		t.Fatalf("want at least 2 problems, got %v", err)
	}
	if !strings.Contains(ps[0].Msg, `unknown key "greting"`) {
		t.Errorf("first problem = %q, want the unknown key", ps[0])
	}
}
