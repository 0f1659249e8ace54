package store

import (
	"context"
	"fmt"
	"time"
)

// Message is one SMS received or sent.
type Message struct {
	Provider  string    `json:"provider"`  // "twilio" | "plivo"
	ID        string    `json:"id"`        // MessageSid / MessageUUID; "" when unknown (e.g. a reply in TwiML)
	Direction string    `json:"direction"` // "in" | "out"
	From      string    `json:"from"`
	To        string    `json:"to"`
	Text      string    `json:"text"`
	At        time.Time `json:"at"`
}

// AddMessage stores a message. A message whose (provider, ID, direction) is
// already stored is ignored, so provider retries store it once.
func (d *DB) AddMessage(ctx context.Context, m Message) error {
	if m.Provider == "" {
		return fmt.Errorf("add message: provider is required")
	}
	if m.Direction != "in" && m.Direction != "out" {
		return fmt.Errorf("add message %s/%s: direction %q: want in or out", m.Provider, m.ID, m.Direction)
	}
	at := m.At
	if at.IsZero() {
		at = d.now()
	}
	_, err := d.exec(ctx, `INSERT INTO messages (provider, message_id, direction, from_number, to_number, body, at)
VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
		txt(m.Provider), txt(m.ID), m.Direction, txt(m.From), txt(m.To), txt(m.Text), d.tv(at))
	if err != nil {
		return fmt.Errorf("add message %s/%s: %w", m.Provider, m.ID, err)
	}
	return nil
}

// ListMessages returns the newest messages first; limit defaults to 50 and
// is at most 500.
func (d *DB) ListMessages(ctx context.Context, limit int) ([]Message, error) {
	return queryAll(ctx, d.sql, "list messages", scanMessage, `SELECT provider, message_id, direction, from_number, to_number, body, at
FROM messages ORDER BY at DESC, id DESC LIMIT $1`, PageSize(limit))
}

func scanMessage(s scanner) (Message, error) {
	var (
		m  Message
		at timeCol
	)
	if err := s.Scan(&m.Provider, &m.ID, &m.Direction, &m.From, &m.To, &m.Text, &at); err != nil {
		return Message{}, err
	}
	m.At = at.T
	return m, nil
}
