package main

import (
	"bytes"
	"context"
	"testing"
)

func TestSimulateScratch(t *testing.T) {
	env := map[string]string{"TWILIO_AUTH_TOKEN": "tw-token", "PLIVO_AUTH_TOKEN": "pl-token"}
	base, _, _ := startServer(t, env)
	getenv := func(k string) string { return env[k] }
	for _, p := range []string{"twilio", "plivo"} {
		var out, errb bytes.Buffer
		err := run(context.Background(), []string{"ivr", "simulate", "--provider", p, "--url", base + "/" + p + "/voice", "--digits", "1,2", "--dial-status", "no-answer"}, getenv, &out, &errb)
		t.Logf("%s err=%v\n%s\n%s", p, err, out.String(), errb.String())
	}
}
