package server

import (
	"net/http"

	"github.com/go-chi/chi/v5"
)

// demoAccounts are the accounts of the demo API that local mode serves, so
// the example flow's lookup works on a fresh clone with no configuration.
var demoAccounts = map[string]string{
	"123456": `{"balance": 42.50, "account": {"status": "active", "name": "Ada Lovelace"}}` + "\n",
	"234567": `{"balance": 0, "account": {"status": "active", "name": "Alan Turing"}}` + "\n",
	"345678": `{"balance": 310.25, "account": {"status": "suspended", "name": "Grace Hopper"}}` + "\n",
}

// handleDemoAccount answers GET /demo/accounts/{id} as a business's API
// would: the account as JSON, or 404.
func handleDemoAccount() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		body, ok := demoAccounts[chi.URLParam(r, "id")]
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			body = `{"error": "no such account"}` + "\n"
		}
		w.Write([]byte(body))
	})
}
