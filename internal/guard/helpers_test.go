package guard

import (
	"strings"
)

// String lists the networks comma separated, in the form ParseCIDRs reads.
func (l Allowlist) String() string {
	parts := make([]string, len(l))
	for i, p := range l {
		parts[i] = p.String()
	}
	return strings.Join(parts, ", ")
}
