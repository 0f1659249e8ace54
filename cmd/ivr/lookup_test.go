package main

import (
	"net"
	"testing"

	"github.com/ivr-project/ivr/internal/config"
)

func TestDemoAPIAddress(t *testing.T) {
	local := config.Config{}
	for addr, want := range map[string]string{
		"0.0.0.0:8080":  "http://127.0.0.1:8080/demo",
		"[::]:9000":     "http://127.0.0.1:9000/demo",
		"127.0.0.1:81":  "http://127.0.0.1:81/demo",
		"[::1]:82":      "http://[::1]:82/demo",
		"10.1.2.3:8080": "http://10.1.2.3:8080/demo",
	} {
		a, err := net.ResolveTCPAddr("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		if got := demoAPI(local, a); got != want {
			t.Errorf("%s: %q, want %q", addr, got, want)
		}
	}
	a, _ := net.ResolveTCPAddr("tcp", "127.0.0.1:8080")
	if got := demoAPI(config.Config{Production: true}, a); got != "" {
		t.Errorf("production: %q", got)
	}
}
