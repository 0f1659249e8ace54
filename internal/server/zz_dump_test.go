package server

import (
	"os"
	"testing"
)

func TestZZDump(t *testing.T) {
	e := newAdminEnv(t, "", nil)
	w := e.do(t, "GET", "/admin/flow", "", withBearer(adminTestToken))
	os.WriteFile("/tmp/flow.html", w.Body.Bytes(), 0o644)
}
