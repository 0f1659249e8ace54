// Command baseline is the yardstick of scripts/load.sh: the least a Twilio
// answer URL can do. It checks X-Twilio-Signature (HMAC-SHA1 over the URL and
// the sorted form parameters, with its own crypto/hmac code) and writes a
// constant TwiML menu. No router, no flow, no store, no metrics, no logs.
//
//	go run ./bench/baseline -addr 127.0.0.1:0 -token "$TWILIO_AUTH_TOKEN"
package main

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"sort"
	"time"
)

const menu = `<?xml version="1.0" encoding="UTF-8"?>
<Response>
  <Gather action="/twilio/voice/menu/main?attempt=1" input="dtmf speech" numDigits="1" timeout="6">
    <Say voice="Polly.Joanna" language="en-US">For billing, press 1. For support, press 2. To speak with someone, press 0.</Say>
  </Gather>
  <Redirect method="POST">/twilio/voice/menu/main?attempt=1</Redirect>
</Response>
`

func main() {
	addr := flag.String("addr", "127.0.0.1:8090", "listen address (port 0: any free port)")
	token := flag.String("token", os.Getenv("TWILIO_AUTH_TOKEN"), "Twilio auth token (default $TWILIO_AUTH_TOKEN)")
	flag.Parse()
	if *token == "" {
		log.Fatal("baseline: -token (or TWILIO_AUTH_TOKEN) is required")
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatalf("baseline: listen on %s: %v", *addr, err)
	}
	fmt.Printf("baseline listening on http://%s\n", ln.Addr())
	srv := &http.Server{
		Handler:           handler([]byte(*token)),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      20 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	log.Fatal(srv.Serve(ln))
}

func handler(token []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "POST only", http.StatusMethodNotAllowed)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		form, err := url.ParseQuery(string(body))
		if err != nil {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		if !valid(token, "http://"+r.Host+r.RequestURI, form, r.Header.Get("X-Twilio-Signature")) {
			http.Error(w, "bad signature", http.StatusForbidden)
			return
		}
		w.Header().Set("Content-Type", "text/xml")
		io.WriteString(w, menu)
	})
}

// valid checks Twilio's signature: base64(HMAC-SHA1(token, URL + each
// parameter's name and value, sorted by name)).
func valid(token []byte, u string, form url.Values, sig string) bool {
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	m := hmac.New(sha1.New, token)
	io.WriteString(m, u)
	for _, k := range keys {
		vals := append([]string(nil), form[k]...)
		sort.Strings(vals)
		for _, v := range vals {
			io.WriteString(m, k)
			io.WriteString(m, v)
		}
	}
	want := make([]byte, base64.StdEncoding.EncodedLen(sha1.Size))
	base64.StdEncoding.Encode(want, m.Sum(nil))
	return hmac.Equal(want, []byte(sig))
}
