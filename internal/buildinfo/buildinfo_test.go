package buildinfo

import (
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestFromBuildInfo(t *testing.T) {
	for _, tc := range []struct {
		name string
		bi   debug.BuildInfo
		want Info
	}{
		{"stamped", debug.BuildInfo{
			GoVersion: "go1.26.8",
			Main:      debug.Module{Path: "github.com/ivr-project/ivr", Version: "v1.2.3"},
			Settings: []debug.BuildSetting{
				{Key: "-trimpath", Value: "true"},
				{Key: "vcs", Value: "git"},
				{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
				{Key: "vcs.time", Value: "2026-11-30T05:00:00Z"},
				{Key: "vcs.modified", Value: "true"},
			},
		}, Info{Version: "v1.2.3", Revision: "0123456789abcdef0123456789abcdef01234567", Time: "2026-11-30T05:00:00Z", Modified: true, GoVersion: "go1.26.8"}},
		{"go run", debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/ivr-project/ivr", Version: "(devel)"}},
			Info{Version: "(devel)", Revision: Unknown, Time: Unknown, GoVersion: "go1.26.8"}},
		{"empty", debug.BuildInfo{}, Info{Version: Unknown, Revision: Unknown, Time: Unknown, GoVersion: Unknown}},
	} {
		if got := FromBuildInfo(&tc.bi); got != tc.want {
			t.Errorf("%s: got %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

func TestReadAndString(t *testing.T) {
	info := Read()
	if info.GoVersion != runtime.Version() {
		t.Errorf("GoVersion = %q, want %q", info.GoVersion, runtime.Version())
	}
	s := Info{Version: "v1.2.3", Revision: "abc", Time: "2026-11-30T05:00:00Z", Modified: true, GoVersion: "go1.26.8"}.String()
	for _, want := range []string{"ivr v1.2.3\n", "revision: abc (modified", "time:     2026-11-30T05:00:00Z\n", "go:       go1.26.8\n"} {
		if !strings.Contains(s, want) {
			t.Errorf("String() = %q, missing %q", s, want)
		}
	}
}
