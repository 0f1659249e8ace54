package config

import (
	"fmt"
	"regexp"
	"sync"

	"github.com/ivr-project/ivr/internal/guard"
)

// SecretPrefix is the environment prefix of a flow's secrets:
// {{secret.CRM_TOKEN}} reads IVR_SECRET_CRM_TOKEN or IVR_SECRET_CRM_TOKEN_FILE.
const SecretPrefix = "IVR_SECRET_"

var secretName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,63}$`)

// Secrets reads a flow's secrets from the environment by name, on first use
// (the names come from the flow file, which may be reloaded), with the same
// rule as every other secret: NAME or NAME_FILE, not both. A value once read
// is kept until Refresh reads it again (the server refreshes as often as it
// looks at the flow file, and on every flow reload), so a rotated
// IVR_SECRET_NAME_FILE takes effect without a restart. Values are never
// logged; errors name the variable, never its value.
type Secrets struct {
	getenv func(string) string
	mu     sync.Mutex
	known  map[string]secretValue
}

type secretValue struct {
	v   string
	err error
}

// NewSecrets reads secrets through getenv (the environment over .env).
func NewSecrets(getenv func(string) string) *Secrets {
	return &Secrets{getenv: getenv, known: map[string]secretValue{}}
}

// Get returns the secret NAME; false when it is unset, unreadable or the
// name is not one (letters, digits, _).
func (s *Secrets) Get(name string) (string, bool) {
	v := s.read(name)
	return v.v, v.err == nil && v.v != ""
}

// Check says what is wrong with each of names: unset, both forms set, an
// unreadable file. The server checks a flow's secret names with it at start.
func (s *Secrets) Check(names []string) []error {
	var errs []error
	for _, n := range names {
		v := s.read(n)
		switch {
		case v.err != nil:
			errs = append(errs, v.err)
		case v.v == "":
			errs = append(errs, fmt.Errorf("the flow uses {{secret.%s}}: set %s%s (or %s%s_FILE)", n, SecretPrefix, n, SecretPrefix, n))
		}
	}
	return errs
}

// Refresh reads every secret read so far again (a file may have been
// rotated). A secret that read well keeps its value when the new read fails
// (a file being rewritten, briefly empty); it changes on the next good read.
func (s *Secrets) Refresh() {
	if s == nil {
		return
	}
	s.mu.Lock()
	names := make([]string, 0, len(s.known))
	for n := range s.known {
		names = append(names, n)
	}
	s.mu.Unlock()
	for _, n := range names {
		v := s.load(n) // outside the lock: Get does not wait on the files
		s.mu.Lock()
		if old := s.known[n]; (v.err == nil && v.v != "") || old.err != nil || old.v == "" {
			s.known[n] = v
		}
		s.mu.Unlock()
	}
}

func (s *Secrets) read(name string) secretValue {
	if s == nil {
		return secretValue{err: fmt.Errorf("no secrets configured")}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if v, ok := s.known[name]; ok {
		return v
	}
	v := s.load(name)
	if len(s.known) < 1024 { // names come from flow files; keep the cache bounded anyway
		s.known[name] = v
	}
	return v
}

// load reads the secret name from the environment or its file.
func (s *Secrets) load(name string) secretValue {
	var v secretValue
	if !secretName.MatchString(name) {
		v.err = fmt.Errorf("secret name %q: use letters, digits and _", name)
	} else {
		v.v, v.err = guard.Secret(s.getenv, SecretPrefix+name)
	}
	return v
}
