package voice

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net/http"

	"github.com/go-chi/chi/v5"
)

// The demo API that local mode serves under /demo, so the example flow's
// lookups work on a fresh clone with no configuration. It answers as a
// business's own API would; production mode does not serve it.

// demoAccounts are its accounts. The balance is also at the top level, as
// the README's shorter example reads it.
var demoAccounts = map[string]string{
	"123456": `{"balance": 42.50, "account": {"status": "active", "balance": 42.50, "name": "Ada Lovelace"}}` + "\n",
	"234567": `{"balance": 0, "account": {"status": "active", "balance": 0, "name": "Alan Turing"}}` + "\n",
	"345678": `{"balance": 310.25, "account": {"status": "suspended", "balance": 310.25, "name": "Grace Hopper"}}` + "\n",
}

// HandleDemoAccount answers GET /demo/accounts/{id}: the account as JSON,
// or 404.
func HandleDemoAccount() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := demoAccounts[chi.URLParam(r, "id")]
		if !ok {
			demoJSON(w, http.StatusNotFound, `{"error": "no such account"}`+"\n")
			return
		}
		demoJSON(w, http.StatusOK, body)
	})
}

// HandleDemoCallback answers POST /demo/callbacks with a JSON body naming
// an account: a callback ticket, {"ticket": "4821"} (the same ticket for the
// same request, so tests and demos can say what to expect).
func HandleDemoCallback() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Account string `json:"account"`
			Caller  string `json:"caller"`
			Reason  string `json:"reason"`
		}
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<10))
		if err := dec.Decode(&req); err != nil || req.Account == "" {
			demoJSON(w, http.StatusBadRequest, `{"error": "send a JSON object with an account"}`+"\n")
			return
		}
		if _, ok := demoAccounts[req.Account]; !ok {
			demoJSON(w, http.StatusNotFound, `{"error": "no such account"}`+"\n")
			return
		}
		h := fnv.New32a()
		h.Write([]byte(req.Account + "\x00" + req.Caller + "\x00" + req.Reason))
		demoJSON(w, http.StatusOK, fmt.Sprintf(`{"ticket": "%04d"}`+"\n", h.Sum32()%10000))
	})
}

func demoJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write([]byte(body))
}
