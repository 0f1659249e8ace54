package simulate

import (
	"fmt"
	"io"
	"strings"
)

// shortReason is a reason header as it may be printed: no control
// characters, at most 64 bytes (it comes from whatever server answered).
func shortReason(s string) string {
	s = clean(s)
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return s
}

// fallbackAdvice says what a fallback or refusal reason usually means for
// someone playing calls with `ivr simulate`, and what to do.
func fallbackAdvice(provider, reason string) string {
	token := strings.ToUpper(provider) + "_AUTH_TOKEN"
	switch reason {
	case "bad_signature", "bad_body_hash":
		return "the signature does not match: this command signs with its " + token + " for the URL it calls, " +
			"the server checks with its own token against its IVR_PUBLIC_URL (or the URL the request arrived on). " +
			"Use the same token on both sides, and --url (or IVR_PUBLIC_URL here) for the server's public URL; " +
			"the server's log names the URL it checked"
	case "no_token":
		return "the server has no " + token + ": set it where the server runs (the same value as here) and restart it"
	case "missing_signature", "malformed_signature":
		return "the request reached the server without a usable signature (a proxy in between may drop the header)"
	case "not_found", "method_not_allowed":
		return "that URL is not one of the server's webhook routes: check --url (a base URL such as http://localhost:8080 is enough)"
	case "replayed_nonce", "missing_nonce", "bad_nonce", "nonce_store":
		return "the server refused the Plivo nonce; see the server's log"
	case "deadline":
		return "the server did not answer within IVR_VOICE_DEADLINE; see the server's log for the slow step"
	}
	return "see the server's log for this reason"
}

// reportFallback tells plainly that the server answered with its fallback
// (or refused a callback) instead of the flow, and returns the error that
// makes the command fail; nil when every answer was the flow's.
func reportFallback(out io.Writer, provider string, r *runner) error {
	if r.fallback != "" {
		fmt.Fprintf(out, "\nThe server answered %s with its FALLBACK (reason: %s), not the flow: "+
			"what you heard is the apology and the transfer to the call center.\n  %s.\n",
			r.fallbackAt, r.fallback, fallbackAdvice(provider, r.fallback))
		return fmt.Errorf("the server answered with its fallback (%s)", r.fallback)
	}
	if r.refused != "" {
		fmt.Fprintf(out, "\nThe server REFUSED %s (reason: %s): nothing was stored for it.\n  %s.\n",
			r.refusedAt, r.refused, fallbackAdvice(provider, r.refused))
		return fmt.Errorf("the server refused a request (%s)", r.refused)
	}
	return nil
}
