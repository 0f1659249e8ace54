package xml

import (
	"fmt"
	"strings"

	"github.com/ivr-project/ivr/internal/ivr"
)

// DefaultFallbackText is spoken by Fallback when FallbackConfig.Text is empty.
const DefaultFallbackText = "We are sorry, something went wrong. Please hold while we connect you to an agent."

// FallbackConfig is what the fallback document says and where it sends the
// caller.
type FallbackConfig struct {
	Text     string // the apology; "" = DefaultFallbackText
	Voice    string // provider voice; "" = provider default
	Language string // e.g. "en-US"; "" = provider default
	Number   string // the call center (IVR_CALL_CENTER_NUMBER), required
}

// Fallback renders the provider's fallback document: the apology, a Dial to
// f.Number, then Hangup. It has no Gather/GetDigits/GetInput and no URL of
// ours, so it never leads back into the flow. The server renders it once at
// start; an error (unknown provider, no or bad number) is a configuration
// error.
func Fallback(provider string, f FallbackConfig) ([]byte, error) {
	d, err := dialectFor(provider)
	if err != nil {
		return nil, fmt.Errorf("fallback: %w", err)
	}
	if err := checkNumber("call center number", f.Number); err != nil {
		return nil, fmt.Errorf("fallback: %w", err)
	}
	text := f.Text
	if strings.TrimSpace(text) == "" {
		text = DefaultFallbackText
	}
	steps := []ivr.Step{
		ivr.Say{Text: text, Voice: f.Voice, Language: f.Language},
		ivr.Dial{Numbers: []string{strings.TrimSpace(f.Number)}},
		ivr.Hangup{},
	}
	b, err := render(d, "", steps)
	if err != nil {
		return nil, fmt.Errorf("fallback: %w", err)
	}
	return b, nil
}

// Empty is an empty <Response> (with the XML declaration), the answer to a
// callback or message that gets no instructions, and to a refused one. It is
// the same document for both providers; provider is accepted for symmetry and
// not checked. Each call returns a new slice.
func Empty(provider string) []byte {
	return []byte(header + "<Response></Response>\n")
}
