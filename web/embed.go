// Package web holds the admin UI's templates and static assets, embedded
// into the binary. internal/server parses the templates once, at start.
//
//	templates/layout.html   the page frame (nav, flow-error banner)
//	templates/*.html        one file per page, each defining "title" and "content"
//	static/                 CSS and JavaScript served under /admin/static/
package web

import "embed"

// FS is the admin UI: templates/ and static/.
//
//go:embed templates static
var FS embed.FS
