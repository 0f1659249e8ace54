package main

import (
	"bytes"
	"context"
	"net"
	"runtime"
	"strings"
	"testing"

	"github.com/ivr-project/ivr/internal/buildinfo"
)

func TestVersion(t *testing.T) {
	want := buildinfo.Read().String()
	for _, arg := range []string{"version", "--version"} {
		var out, errOut bytes.Buffer
		if err := run(context.Background(), []string{"ivr", arg}, testEnv(t, nil), nil, &out, &errOut); err != nil {
			t.Fatalf("ivr %s: %v", arg, err)
		}
		if out.String() != want || !strings.Contains(out.String(), "go:       "+runtime.Version()+"\n") {
			t.Errorf("ivr %s printed %q, want %q", arg, out.String(), want)
		}
	}
	if err := run(context.Background(), []string{"ivr", "version", "x"}, testEnv(t, nil), nil, &bytes.Buffer{}, &bytes.Buffer{}); err == nil {
		t.Error("ivr version x: want an error")
	}
}

func TestHealthcheck(t *testing.T) {
	base, stop, _ := startServer(t, nil)
	addr := strings.TrimPrefix(base, "http://")
	_, port, _ := net.SplitHostPort(addr)
	check := func(env map[string]string, args ...string) (string, error) {
		var out bytes.Buffer
		err := run(context.Background(), append([]string{"ivr", "healthcheck"}, args...), testEnv(t, env), nil, &out, &bytes.Buffer{})
		return out.String(), err
	}
	// A wildcard IVR_ADDR, as in the container image, means loopback.
	if out, err := check(map[string]string{"IVR_ADDR": ":" + port}); err != nil || !strings.HasPrefix(out, "ok http://127.0.0.1:"+port+"/healthz") {
		t.Fatalf("healthcheck on :%s: %q, %v", port, out, err)
	}
	if _, err := check(nil, base+"/healthz"); err != nil {
		t.Fatalf("healthcheck %s/healthz: %v", base, err)
	}
	if _, err := check(nil, base+"/readyz"); err == nil { // 200, but not the healthz answer
		t.Error("healthcheck of /readyz: want an error (no status ok)")
	}
	if _, err := check(map[string]string{"IVR_ADDR": "nonsense"}); err == nil || !strings.Contains(err.Error(), "IVR_ADDR") {
		t.Errorf("bad IVR_ADDR: %v", err)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := check(map[string]string{"IVR_ADDR": addr}); err == nil {
		t.Error("healthcheck of a stopped server: want an error")
	}
}

func TestLocalHealthz(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{nil, "http://127.0.0.1:8080/healthz"},
		{map[string]string{"IVR_ADDR": "0.0.0.0:9000"}, "http://127.0.0.1:9000/healthz"},
		{map[string]string{"IVR_ADDR": "[::]:9000"}, "http://127.0.0.1:9000/healthz"},
		{map[string]string{"IVR_ADDR": "[::1]:9000"}, "http://[::1]:9000/healthz"},
		{map[string]string{"IVR_ADDR": "10.1.2.3:443", "IVR_TLS_CERT_FILE": "/c.pem"}, "https://10.1.2.3:443/healthz"},
	} {
		if got, err := localHealthz(func(k string) string { return tc.env[k] }); err != nil || got != tc.want {
			t.Errorf("%v: %q, %v; want %q", tc.env, got, err, tc.want)
		}
	}
}
