package admin

import (
	"bytes"
	"net/http"

	"github.com/ivr-project/ivr/internal/flowgraph"
)

// The flow editor page (GET /admin/flow/edit) and the map of a draft.

// editorView is what templates/editor.html shows; Enabled, Twilio and
// Plivo feed the "Try the draft" keypad (try-panel).
type editorView struct {
	Revision               int64
	Text, File             string
	Enabled, Twilio, Plivo bool
}

// HandleEditorPage serves GET /admin/flow/edit: the live flow as the draft.
func HandleEditorPage(a *Admin) http.Handler {
	tmpl := a.page("editor.html")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rev, err := a.d.Publisher.Live(r.Context())
		if err != nil {
			a.fail(w, r, pageFailure(kindStore, "The flow revisions could not be read", err.Error()))
			return
		}
		twilio, plivo := a.providers["twilio"] != nil, a.providers["plivo"] != nil
		a.render(w, r, tmpl, "edit", editorView{Revision: rev.ID, Text: rev.Text, File: a.d.Publisher.Source().Path(),
			Enabled: twilio || plivo, Twilio: twilio, Plivo: plivo})
	})
}

// HandleAPIFlowMap serves POST /admin/api/flow/map {"text"}: the draft's
// diagram as an SVG document (422 with the problems when it does not pass
// check).
func HandleAPIFlowMap(a *Admin) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Text string `json:"text"`
		}
		if !decodeFlowBody(w, r, &req, func() string { return req.Text }) {
			return
		}
		f, err := a.d.Publisher.Check([]byte(req.Text))
		if err != nil {
			apiFail(w, flowError(err))
			return
		}
		var buf bytes.Buffer
		if err := a.layout.ExecuteTemplate(&buf, "flow-svg", flowgraph.Layout(f)); err != nil {
			apiFail(w, failure(kindInternal, "draw the map: "+err.Error()))
			return
		}
		w.Header().Set("Content-Type", "image/svg+xml; charset=utf-8")
		w.Write(bytes.TrimSpace(buf.Bytes()))
	})
}
