package lookup

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

const benchAnswer = `{"balance": 42.50, "account": {"status": "active", "name": "Ada Lovelace"}}`

func benchAPI(b *testing.B) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, benchAnswer)
	}))
	b.Cleanup(srv.Close)
	return srv
}

// BenchmarkDo is one lookup against a local API: the request, the answer,
// the JSON paths and the breaker. Compare with BenchmarkPlainGet, the same
// round trip with a bare http.Client: the difference is this package's cost.
func BenchmarkDo(b *testing.B) {
	srv := benchAPI(b)
	c := New(Options{})
	l := Lookup{Request: "account", Method: "GET", URL: srv.URL + "/accounts/123456",
		Save: map[string]string{"balance": "balance", "status": "account.status"}}
	b.ReportAllocs()
	for b.Loop() {
		if o := c.Do(context.Background(), l); o.Kind != KindOK {
			b.Fatal(o.Kind, o.Err)
		}
	}
}

func BenchmarkPlainGet(b *testing.B) {
	srv := benchAPI(b)
	client := &http.Client{Transport: NewTransport()}
	b.ReportAllocs()
	for b.Loop() {
		resp, err := client.Get(srv.URL + "/accounts/123456")
		if err != nil {
			b.Fatal(err)
		}
		io.ReadAll(resp.Body)
		resp.Body.Close()
	}
}
