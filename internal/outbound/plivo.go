package outbound

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// plivoCall is the body of Plivo's Make a Call request (the fields
// plivo-node's Call.create sends, minus its own isVoiceRequest marker).
type plivoCall struct {
	From         string `json:"from"`
	To           string `json:"to"`
	AnswerURL    string `json:"answer_url"`
	AnswerMethod string `json:"answer_method"`
	HangupURL    string `json:"hangup_url"`
	HangupMethod string `json:"hangup_method"`
}

// plivoAnswer is its answer: 201 {"message": "call fired", "request_uuid", "api_id"}.
type plivoAnswer struct {
	Message     string `json:"message"`
	RequestUUID string `json:"request_uuid"`
	APIID       string `json:"api_id"`
	Error       string `json:"error"`
}

// maxAnswer caps what is read of an API answer.
const maxAnswer = 64 << 10

// plivo calls Plivo's Call API: POST /v1/Account/{auth_id}/Call/ with a
// JSON body; basic auth ID:token. Numbers go without the "+", as Plivo
// writes them.
func (c *Client) plivo(ctx context.Context, call Call) (string, error) {
	body, err := json.Marshal(plivoCall{
		From: strings.TrimPrefix(call.From, "+"), To: strings.TrimPrefix(call.To, "+"),
		AnswerURL: call.AnswerURL, AnswerMethod: "POST", HangupURL: call.StatusURL, HangupMethod: "POST",
	})
	if err != nil {
		return "", fmt.Errorf("plivo: %w", err)
	}
	hc, err := c.httpClient(ctx, c.cfg.PlivoAPIURL)
	if err != nil {
		return "", fmt.Errorf("plivo: %w", err)
	}
	u := DefaultPlivoAPI + "/v1/Account/" + url.PathEscape(c.cfg.PlivoAuthID) + "/Call/"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("plivo: %w", err)
	}
	req.SetBasicAuth(c.cfg.PlivoAuthID, c.cfg.PlivoAuthToken)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return "", fmt.Errorf("plivo: make call: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return "", fmt.Errorf("plivo: make call: reading the answer: %w", err)
	}
	var ans plivoAnswer
	jsonErr := json.Unmarshal(data, &ans)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		msg := ans.Error
		if msg == "" {
			msg = strings.TrimSpace(string(data[:min(len(data), 200)]))
		}
		return "", fmt.Errorf("plivo: make call: HTTP %d: %s", resp.StatusCode, msg)
	}
	if jsonErr != nil {
		return "", fmt.Errorf("plivo: make call: the answer is not JSON: %w", jsonErr)
	}
	if ans.RequestUUID == "" {
		return "", errors.New("plivo: make call: the answer has no request_uuid")
	}
	return ans.RequestUUID, nil
}
