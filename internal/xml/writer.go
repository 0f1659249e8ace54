package xml

import (
	"strconv"
	"unicode/utf8"

	"github.com/ivr-project/ivr/internal/ivr"
)

const header = `<?xml version="1.0" encoding="UTF-8"?>` + "\n"

// writer appends an indented XML document to b. It never fails: every string
// it is given is escaped, and characters XML 1.0 forbids become U+FFFD.
type writer struct {
	b     []byte
	depth int
}

func (w *writer) indent() {
	for range w.depth {
		w.b = append(w.b, "  "...)
	}
}

// open writes "<name" at the current depth; follow with attrs, then
// endEmpty, endText or endParent.
func (w *writer) open(name string) {
	w.indent()
	w.b = append(w.b, '<')
	w.b = append(w.b, name...)
}

// attr writes ` name="value"`; value is escaped.
func (w *writer) attr(name, value string) {
	w.b = append(w.b, ' ')
	w.b = append(w.b, name...)
	w.b = append(w.b, `="`...)
	w.b = appendEscaped(w.b, value, true)
	w.b = append(w.b, '"')
}

// attrURL writes ` name="base+target"` without building the joined string.
func (w *writer) attrURL(name, base string, t ivr.Target) {
	w.b = append(w.b, ' ')
	w.b = append(w.b, name...)
	w.b = append(w.b, `="`...)
	w.b = appendURL(w.b, base, t, true)
	w.b = append(w.b, '"')
}

func (w *writer) attrInt(name string, n int) {
	w.b = append(w.b, ' ')
	w.b = append(w.b, name...)
	w.b = append(w.b, `="`...)
	w.b = strconv.AppendInt(w.b, int64(n), 10)
	w.b = append(w.b, '"')
}

func (w *writer) attrBool(name string, v bool) {
	w.b = append(w.b, ' ')
	w.b = append(w.b, name...)
	w.b = append(w.b, `="`...)
	w.b = strconv.AppendBool(w.b, v)
	w.b = append(w.b, '"')
}

// endEmpty closes an element without content: "/>".
func (w *writer) endEmpty() {
	w.b = append(w.b, "/>\n"...)
}

// endText writes ">text</name>" on the same line.
func (w *writer) endText(name, text string) {
	w.b = append(w.b, '>')
	w.b = appendEscaped(w.b, text, false)
	w.closeTag(name)
}

// endURL writes ">base+target</name>" on the same line.
func (w *writer) endURL(name, base string, t ivr.Target) {
	w.b = append(w.b, '>')
	w.b = appendURL(w.b, base, t, false)
	w.closeTag(name)
}

// endParent ends the start tag of an element whose children follow on their
// own lines, one level deeper; close it with closeParent.
func (w *writer) endParent() {
	w.b = append(w.b, ">\n"...)
	w.depth++
}

func (w *writer) closeParent(name string) {
	w.depth--
	w.indent()
	w.closeTag(name)
}

func (w *writer) closeTag(name string) {
	w.b = append(w.b, "</"...)
	w.b = append(w.b, name...)
	w.b = append(w.b, ">\n"...)
}

// appendURL appends base + t.String(), escaped, with exactly one "/"
// between base and a non-empty t.Path.
func appendURL(b []byte, base string, t ivr.Target, inAttr bool) []byte {
	b = appendEscaped(b, base, inAttr)
	path := t.Path
	if base != "" && path != "" {
		baseSlash := base[len(base)-1] == '/'
		pathSlash := path[0] == '/'
		switch {
		case baseSlash && pathSlash:
			path = path[1:]
		case !baseSlash && !pathSlash:
			b = append(b, '/') // rare: a base without its trailing slash
		}
	}
	b = appendEscaped(b, path, inAttr)
	if t.Query != "" {
		b = append(b, '?')
		b = appendEscaped(b, t.Query, inAttr)
	}
	return b
}

// appendEscaped appends s escaped for XML character data (inAttr false) or a
// double-quoted attribute value (inAttr true). Invalid UTF-8 and code points
// outside XML 1.0's Char production become U+FFFD. In attributes, tab, LF and
// CR are written as character references so attribute-value normalisation
// does not turn them into spaces; in text, CR is, so that line-end
// normalisation keeps it.
func appendEscaped(b []byte, s string, inAttr bool) []byte {
	last := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < utf8.RuneSelf && c != '&' && c != '<' && c != '>' && c != '"' {
			i++
			continue
		}
		var esc string
		width := 1
		switch {
		case c == '&':
			esc = "&amp;"
		case c == '<':
			esc = "&lt;"
		case c == '>':
			esc = "&gt;"
		case c == '"':
			if !inAttr {
				i++
				continue
			}
			esc = "&quot;"
		case c == '\n':
			if !inAttr {
				i++
				continue
			}
			esc = "&#xA;"
		case c == '\t':
			if !inAttr {
				i++
				continue
			}
			esc = "&#x9;"
		case c == '\r':
			esc = "&#xD;"
		case c < 0x20:
			esc = "\uFFFD"
		default:
			r, n := utf8.DecodeRuneInString(s[i:])
			width = n
			if (r == utf8.RuneError && n == 1) || !isXMLChar(r) {
				esc = "\uFFFD"
			} else {
				i += n
				continue
			}
		}
		b = append(b, s[last:i]...)
		b = append(b, esc...)
		i += width
		last = i
	}
	return append(b, s[last:]...)
}

// isXMLChar reports whether r (at or above U+0080) is in XML 1.0's Char
// production.
func isXMLChar(r rune) bool {
	return (r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= 0x10FFFF)
}
