package outbound

import (
	"context"
	"errors"
	"fmt"

	twilioclient "github.com/twilio/twilio-go/client"
	twilioapi "github.com/twilio/twilio-go/rest/api/v2010"
)

// twilio creates a Call resource with twilio-go's REST client:
// POST /2010-04-01/Accounts/{AccountSid}/Calls.json, form To, From, Url,
// Method, StatusCallback, StatusCallbackMethod; basic auth SID:token.
func (c *Client) twilio(ctx context.Context, call Call) (string, error) {
	hc, err := c.httpClient(ctx, c.cfg.TwilioAPIURL)
	if err != nil {
		return "", fmt.Errorf("twilio: %w", err)
	}
	rc := &twilioclient.Client{Credentials: twilioclient.NewCredentials(c.cfg.TwilioAccountSID, c.cfg.TwilioAuthToken), HTTPClient: hc}
	rc.SetAccountSid(c.cfg.TwilioAccountSID)
	api := twilioapi.NewApiServiceWithClient(rc)
	params := (&twilioapi.CreateCallParams{}).
		SetTo(call.To).SetFrom(call.From).
		SetUrl(call.AnswerURL).SetMethod("POST").
		SetStatusCallback(call.StatusURL).SetStatusCallbackMethod("POST")
	res, err := api.CreateCall(params)
	if err != nil {
		var rest *twilioclient.TwilioRestError
		if errors.As(err, &rest) {
			return "", fmt.Errorf("twilio: create call: HTTP %d, error %d: %s", rest.Status, rest.Code, rest.Message)
		}
		return "", fmt.Errorf("twilio: create call: %w", err)
	}
	if res == nil || res.Sid == nil || *res.Sid == "" {
		return "", errors.New("twilio: create call: the answer has no sid")
	}
	return *res.Sid, nil
}
