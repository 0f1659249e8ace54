package ivr

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/ivr-project/ivr/internal/seal"
)

func TestLookupLogValueHidesSecrets(t *testing.T) {
	l := Lookup{
		Request: "account", Method: "POST",
		URL:     "https://api.example.com/v1/accounts/12345678?key=SECRETKEY",
		Headers: map[string]string{"Authorization": "Bearer SECRETTOKEN"},
		Body:    []byte(`{"account":"12345678"}`),
		Save:    map[string]string{"balance": "balance"},
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("lookup", "lookup", l)
	out := buf.String() + fmt.Sprint(l) + fmt.Sprintf("%v %+v", l, l)
	for _, secret := range []string{"SECRETKEY", "SECRETTOKEN", "12345678", "/v1/"} {
		if strings.Contains(out, secret) {
			t.Errorf("log shows %q: %s", secret, out)
		}
	}
	for _, want := range []string{`"request":"account"`, `"method":"POST"`, `"host":"api.example.com"`} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("log lacks %s: %s", want, buf.String())
		}
	}
}

// internal/seal's Box is the Sealer the server passes in.
var _ Sealer = (*seal.Box)(nil)
