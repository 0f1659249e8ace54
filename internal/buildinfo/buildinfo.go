// Package buildinfo says which build of ivr is running: the module version,
// the VCS revision and time, and the Go version, from the build information
// the Go toolchain writes into every binary (runtime/debug.ReadBuildInfo).
//
// A binary built with `go build` inside a git checkout carries the revision;
// `go run` and test binaries do not, and report "unknown".
package buildinfo

import (
	"fmt"
	"runtime/debug"
)

// Unknown is what a field holds when the binary does not record it.
const Unknown = "unknown"

// Info is one build's identity. The JSON names are the ones /healthz shows.
type Info struct {
	Version   string `json:"version"`    // module version, e.g. v1.2.3 or a pseudo-version; "(devel)" when unstamped
	Revision  string `json:"revision"`   // VCS commit id
	Time      string `json:"time"`       // VCS commit time, RFC 3339
	Modified  bool   `json:"modified"`   // the work tree had uncommitted changes
	GoVersion string `json:"go_version"` // e.g. go1.26.8
}

// Read returns the running binary's Info.
func Read() Info {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return Info{Version: Unknown, Revision: Unknown, Time: Unknown, GoVersion: Unknown}
	}
	return FromBuildInfo(bi)
}

// FromBuildInfo extracts Info from build information; missing fields are
// Unknown.
func FromBuildInfo(bi *debug.BuildInfo) Info {
	info := Info{Version: bi.Main.Version, Revision: Unknown, Time: Unknown, GoVersion: bi.GoVersion}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			info.Revision = s.Value
		case "vcs.time":
			info.Time = s.Value
		case "vcs.modified":
			info.Modified = s.Value == "true"
		}
	}
	if info.Version == "" {
		info.Version = Unknown
	}
	if info.GoVersion == "" {
		info.GoVersion = Unknown
	}
	return info
}

// String is what `ivr version` prints: the version on the first line, then
// one field a line.
func (i Info) String() string {
	rev := i.Revision
	if i.Modified {
		rev += " (modified: uncommitted changes)"
	}
	return fmt.Sprintf("ivr %s\nrevision: %s\ntime:     %s\ngo:       %s\n", i.Version, rev, i.Time, i.GoVersion)
}
