package httpobs

import (
	"testing"

	"github.com/go-chi/chi/v5"
)

// BenchmarkRouteLabel is the metric label of a matched route: chi's
// RoutePattern (joins the patterns on every call) against routeLabels'
// cache of it, which observe uses on every request.
func BenchmarkRouteLabel(b *testing.B) {
	rc := chi.NewRouteContext()
	rc.RoutePatterns = []string{"/twilio/*", "/voice/menu/{id}"}
	b.Run("RoutePattern", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = patternLabel(rc)
		}
	})
	b.Run("cached", func(b *testing.B) {
		l := &routeLabels{}
		b.ReportAllocs()
		for b.Loop() {
			_ = l.label(rc)
		}
	})
}
