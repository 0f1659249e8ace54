package xml

import (
	"github.com/ivr-project/ivr/internal/ivr"
)

// ContentType is the Content-Type for provider's documents; an unknown
// provider gets the generic "application/xml; charset=utf-8".
func ContentType(provider string) string {
	if provider == ProviderTwilio {
		return ContentTypeTwilio
	}
	return ContentTypePlivo
}

// Render is Twilio or Plivo chosen by provider ("twilio" or "plivo").
func Render(provider, base string, steps []ivr.Step) ([]byte, error) {
	d, err := dialectFor(provider)
	if err != nil {
		return nil, err
	}
	return render(d, base, steps)
}
