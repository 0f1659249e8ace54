package main

import (
	"context"
	"io"
	"strings"
	"testing"
)

// A database URL that fails (to parse, or to connect) is named in the error
// with its password hidden, and the error says "open store" once.
func TestServeStoreErrorHidesPassword(t *testing.T) {
	for _, dsn := range []string{
		"postgres://ivr:p%zz#s3cretpw@localhost:1/ivr",   // bad escape: url.Parse fails
		"postgres://ivr:s3/cretpw@localhost:1/ivr",       // "/" in the password: no valid port
		"postgres://ivr:s3cretpw@local host:1/ivr",       // space in the host
		"postgres://ivr:s3cretpw@127.0.0.1:1/ivr",        // parses; nothing listens
		"postgres://127.0.0.1:1/ivr?password=s3cretpw",   // password as a parameter
		"postgres://ivr:s3c@retpw@127.0.0.1:1/ivr?x=%zz", // "@" in the password, bad query
	} {
		env := map[string]string{"IVR_ADDR": "127.0.0.1:0", "IVR_DATABASE_URL": dsn, "IVR_NGROK_API": "off"}
		err := run(context.Background(), []string{"ivr"}, testEnv(t, env), nil, io.Discard, io.Discard)
		if err == nil {
			t.Fatalf("%s: run started", dsn)
		}
		msg := err.Error()
		for _, secret := range []string{"s3cretpw", "cretpw", "retpw"} {
			if strings.Contains(msg, secret) {
				t.Errorf("%s: the error shows the password: %s", dsn, msg)
				break
			}
		}
		if n := strings.Count(msg, "open store"); n != 1 {
			t.Errorf("%s: \"open store\" %d times in %q", dsn, n, msg)
		}
	}
}
