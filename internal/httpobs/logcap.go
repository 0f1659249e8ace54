package httpobs

import (
	"context"
	"log/slog"
	"strconv"
	"unicode/utf8"
)

// maxLogValue caps every string logged through the server's logger: a path,
// a call id, an error quoting a URL. What a request sends may be up to a
// megabyte; a log line stays readable and a log store stays affordable.
const maxLogValue = 512

// CapLogs wraps a slog handler so that every string value (and message) it
// receives is cut to maxLogValue bytes, marked with how long it was. Stack
// traces (the "stack" key, from our own panics) are kept whole.
func CapLogs(h slog.Handler) slog.Handler {
	if c, ok := h.(capHandler); ok {
		return c
	}
	return capHandler{h}
}

type capHandler struct{ next slog.Handler }

func (c capHandler) Enabled(ctx context.Context, l slog.Level) bool { return c.next.Enabled(ctx, l) }

func (c capHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, capString(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(capAttr(a))
		return true
	})
	return c.next.Handle(ctx, out)
}

func (c capHandler) WithAttrs(as []slog.Attr) slog.Handler {
	capped := make([]slog.Attr, len(as))
	for i, a := range as {
		capped[i] = capAttr(a)
	}
	return capHandler{c.next.WithAttrs(capped)}
}

func (c capHandler) WithGroup(name string) slog.Handler { return capHandler{c.next.WithGroup(name)} }

func capAttr(a slog.Attr) slog.Attr {
	if a.Key == "stack" {
		return a
	}
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		if len(v.String()) > maxLogValue {
			return slog.String(a.Key, capString(v.String()))
		}
	case slog.KindGroup:
		g := v.Group()
		capped := make([]slog.Attr, len(g))
		for i, ga := range g {
			capped[i] = capAttr(ga)
		}
		return slog.Attr{Key: a.Key, Value: slog.GroupValue(capped...)}
	case slog.KindAny:
		// Errors, panics and other values print as text: cap that text.
		if s := anyText(v.Any()); len(s) > maxLogValue {
			return slog.String(a.Key, capString(s))
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}

func anyText(x any) string {
	switch x := x.(type) {
	case error:
		return x.Error()
	case interface{ String() string }:
		return x.String()
	case string:
		return x
	}
	return ""
}

// capString cuts s to maxLogValue bytes on a character boundary and says
// how long it was.
func capString(s string) string {
	if len(s) <= maxLogValue {
		return s
	}
	cut := maxLogValue
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…(" + strconv.Itoa(len(s)) + " bytes)"
}
