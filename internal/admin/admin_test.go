package admin

import (
	"strings"
	"testing"
	"time"
)

func TestAdminSessionValue(t *testing.T) {
	a := &Admin{token: "t", sessionKey: []byte("k")}
	now := time.Unix(1_700_000_000, 0)
	v := a.NewSession(now)
	if !a.validSession(v, now.Add(time.Hour)) {
		t.Error("fresh session refused")
	}
	if a.validSession(v, now.Add(SessionTTL+time.Second)) {
		t.Error("expired session accepted")
	}
	exp, mac, _ := strings.Cut(v, ".")
	if a.validSession(exp+"0."+mac, now) || a.validSession(exp+"."+mac[:10], now) || a.validSession("", now) {
		t.Error("tampered session accepted")
	}
	b := &Admin{token: "other", sessionKey: []byte("other key")}
	if b.validSession(v, now) {
		t.Error("session of another token accepted")
	}
}
