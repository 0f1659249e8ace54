package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Voicemail is one recording left by a caller.
type Voicemail struct {
	ID              int64      `json:"id"`
	Provider        string     `json:"provider"`
	CallID          string     `json:"call_id"`
	From            string     `json:"from"`
	To              string     `json:"to"`
	At              time.Time  `json:"at"`
	Menu            string     `json:"menu"`
	URL             string     `json:"url"`
	DurationSeconds int        `json:"duration_seconds"`
	HandledAt       *time.Time `json:"handled_at"`
}

// VoicemailFilter selects ListVoicemails' rows.
type VoicemailFilter struct {
	Handled string // "" all, "yes" handled only, "no" unhandled only
	Limit   int    // default 50, at most 500
}

const voicemailColumns = `v.id, c.provider, c.call_id, c.from_number, c.to_number, v.at, v.menu, v.url, v.duration_seconds, v.handled_at`

func scanVoicemail(s scanner) (Voicemail, error) {
	var (
		v           Voicemail
		at, handled timeCol
	)
	if err := s.Scan(&v.ID, &v.Provider, &v.CallID, &v.From, &v.To, &at, &v.Menu, &v.URL, &v.DurationSeconds, &handled); err != nil {
		return Voicemail{}, err
	}
	v.At = at.T
	if handled.Valid {
		t := handled.T
		v.HandledAt = &t
	}
	return v, nil
}

// ListVoicemails returns voicemails newest first.
func (d *DB) ListVoicemails(ctx context.Context, f VoicemailFilter) ([]Voicemail, error) {
	q := `SELECT ` + voicemailColumns + ` FROM voicemails v JOIN calls c ON c.id = v.call_ref`
	switch f.Handled {
	case "":
	case "yes":
		q += ` WHERE v.handled_at IS NOT NULL`
	case "no":
		q += ` WHERE v.handled_at IS NULL`
	default:
		return nil, fmt.Errorf("list voicemails: handled must be yes, no or empty (got %q)", f.Handled)
	}
	q += ` ORDER BY v.at DESC, v.id DESC LIMIT ` + strconv.Itoa(PageSize(f.Limit))
	return queryAll(ctx, d.sql, "list voicemails", scanVoicemail, q)
}

// GetVoicemail returns one voicemail, or ErrNotFound.
func (d *DB) GetVoicemail(ctx context.Context, id int64) (Voicemail, error) {
	row := d.sql.QueryRowContext(ctx, `SELECT `+voicemailColumns+` FROM voicemails v JOIN calls c ON c.id = v.call_ref WHERE v.id = $1`, id)
	v, err := scanVoicemail(row)
	if errors.Is(err, sql.ErrNoRows) {
		return Voicemail{}, fmt.Errorf("get voicemail %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Voicemail{}, fmt.Errorf("get voicemail %d: %w", id, err)
	}
	return v, nil
}

// SetVoicemailHandled marks a voicemail handled (now) or unhandled.
func (d *DB) SetVoicemailHandled(ctx context.Context, id int64, handled bool) error {
	var at any
	if handled {
		at = d.tv(d.now())
	}
	res, err := d.exec(ctx, `UPDATE voicemails SET handled_at = $1 WHERE id = $2`, at, id)
	if err != nil {
		return fmt.Errorf("mark voicemail %d: %w", id, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return fmt.Errorf("mark voicemail %d: %w", id, ErrNotFound)
	}
	return nil
}
