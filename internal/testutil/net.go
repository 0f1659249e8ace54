package testutil

import (
	"net"
	"testing"
)

// ClosedAddr is a loopback host:port nothing listens on (a port the system
// just gave out and that was closed again): a connection there is refused.
func ClosedAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}
