package admin

import (
	"encoding/json"
	"net/http"
)

// The admin APIs' JSON answers. Two layouts, both kept as clients know
// them: the documents (flow API, insights, voicemails) are indented; lists,
// Try results and errors are one line.

// writeJSON answers with v as indented JSON.
func writeJSON(w http.ResponseWriter, status int, v any) { sendJSON(w, status, v, "  ") }

// writeJSONLine answers with v as JSON on one line.
func writeJSONLine(w http.ResponseWriter, status int, v any) { sendJSON(w, status, v, "") }

func sendJSON(w http.ResponseWriter, status int, v any, indent string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", indent)
	enc.Encode(v)
}
