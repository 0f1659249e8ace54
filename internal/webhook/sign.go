// Package webhook delivers the store's outbox events to IVR_WEBHOOK_URL:
// at least once, signed per the Standard Webhooks specification
// (webhook-id, webhook-timestamp, webhook-signature), retried with
// exponential backoff and jitter until the give-up period has passed.
// Several instances may run a Worker on one database: each event is leased
// to one of them at a time.
package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// secretPrefix starts a Standard Webhooks secret: whsec_ then base64.
const secretPrefix = "whsec_"

// ParseSecret decodes a "whsec_<base64>" signing secret into its key bytes.
func ParseSecret(s string) ([]byte, error) {
	rest, ok := strings.CutPrefix(s, secretPrefix)
	if !ok {
		return nil, errors.New("the secret must start with whsec_ followed by base64 (make one with: echo whsec_$(openssl rand -base64 32))")
	}
	key, err := base64.StdEncoding.DecodeString(rest)
	if err != nil {
		return nil, fmt.Errorf("the part after whsec_ is not base64: %w", err)
	}
	if len(key) < 24 || len(key) > 64 {
		return nil, fmt.Errorf("the key is %d bytes: use 24 to 64 random bytes (e.g. openssl rand -base64 32)", len(key))
	}
	return key, nil
}

// ParseSecrets reads IVR_WEBHOOK_SECRET: one whsec_ secret, or during a
// rotation the new one then the old ones, separated by spaces. It returns
// the first key and the others.
func ParseSecrets(s string) (key []byte, previous [][]byte, err error) {
	fields := strings.Fields(s)
	if len(fields) == 0 {
		return nil, nil, errors.New("no secret: write whsec_ followed by base64")
	}
	for i, f := range fields {
		k, err := ParseSecret(f)
		if err != nil {
			if len(fields) > 1 {
				err = fmt.Errorf("secret %d of %d: %w", i+1, len(fields), err)
			}
			return nil, nil, err
		}
		if i == 0 {
			key = k
		} else {
			previous = append(previous, k)
		}
	}
	return key, previous, nil
}

// Sign returns the webhook-signature header value of a message:
// "v1," + base64(HMAC-SHA256(key, id + "." + timestamp + "." + body)).
func Sign(key []byte, id string, ts time.Time, body []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id))
	m.Write([]byte{'.'})
	m.Write([]byte(strconv.FormatInt(ts.Unix(), 10)))
	m.Write([]byte{'.'})
	m.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
}
