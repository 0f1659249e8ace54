package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ivr-project/ivr/internal/clip"
)

// likeEscape makes text match itself literally in LIKE ... ESCAPE '\'.
var likeEscape = strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`)

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
	Transcript      string     `json:"transcript"` // "" until the provider's transcript arrives
}

// VoicemailFilter selects ListVoicemails' rows.
type VoicemailFilter struct {
	Handled string // "" all, "yes" handled only, "no" unhandled only
	Search  string // "" all, else the transcript or the caller's number contains it (any case)
	Limit   int    // default 50, at most 500
}

const (
	voicemailColumns = `v.id, c.provider, c.call_id, c.from_number, c.to_number, v.at, v.menu, v.url, v.duration_seconds, v.handled_at, COALESCE(t.text, '')`
	voicemailFrom    = ` FROM voicemails v JOIN calls c ON c.id = v.call_ref LEFT JOIN voicemail_transcripts t ON t.call_ref = v.call_ref`
)

func scanVoicemail(s scanner) (Voicemail, error) {
	var (
		v           Voicemail
		at, handled timeCol
	)
	if err := s.Scan(&v.ID, &v.Provider, &v.CallID, &v.From, &v.To, &at, &v.Menu, &v.URL, &v.DurationSeconds, &handled, &v.Transcript); err != nil {
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
	q := `SELECT ` + voicemailColumns + voicemailFrom + ` WHERE 1 = 1`
	switch f.Handled {
	case "":
	case "yes":
		q += ` AND v.handled_at IS NOT NULL`
	case "no":
		q += ` AND v.handled_at IS NULL`
	default:
		return nil, fmt.Errorf("list voicemails: handled must be yes, no or empty (got %q)", f.Handled)
	}
	var args []any
	if s := strings.TrimSpace(f.Search); s != "" {
		q += ` AND (lower(COALESCE(t.text, '')) LIKE $1 ESCAPE '\' OR c.from_number LIKE $1 ESCAPE '\')`
		args = append(args, "%"+likeEscape.Replace(strings.ToLower(s))+"%")
	}
	q += ` ORDER BY v.at DESC, v.id DESC LIMIT ` + strconv.Itoa(PageSize(f.Limit))
	return queryAll(ctx, d.sql, "list voicemails", scanVoicemail, q, args...)
}

// GetVoicemail returns one voicemail, or ErrNotFound.
func (d *DB) GetVoicemail(ctx context.Context, id int64) (Voicemail, error) {
	row := d.sql.QueryRowContext(ctx, `SELECT `+voicemailColumns+voicemailFrom+` WHERE v.id = $1`, id)
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

// EventVoicemailTranscribed is the outbox event of a voicemail's transcript.
const EventVoicemailTranscribed = "voicemail.transcribed"

// MaxTranscriptLen caps a stored transcript (characters; longer text is cut).
const MaxTranscriptLen = 8000

// SetTranscript stores the transcript of the voicemail a call left
// (replacing an earlier one) and, with the outbox on, writes its
// voicemail.transcribed event in the same transaction. A call not yet
// stored is ErrNotFound. The transcript may arrive before the recording's
// row; the inbox joins them by call.
func (d *DB) SetTranscript(ctx context.Context, provider, callID, text string) error {
	text = txt(clip.Runes(strings.TrimSpace(text), MaxTranscriptLen))
	now := d.now()
	err := d.write(ctx, func(tx *sql.Tx) error {
		var ref int64
		err := tx.QueryRowContext(ctx, `SELECT id FROM calls WHERE provider = $1 AND call_id = $2`, provider, callID).Scan(&ref)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM voicemail_transcripts WHERE call_ref = $1`, ref); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO voicemail_transcripts (call_ref, at, text) VALUES ($1, $2, $3)`, ref, d.tv(now), text); err != nil {
			return err
		}
		if !d.outbox.Load() {
			return nil
		}
		row := tx.QueryRowContext(ctx, `UPDATE calls SET event_seq = event_seq + 1 WHERE id = $1 RETURNING `+snapshotColumns, ref)
		c, err := scanSnapshot(row)
		if err != nil {
			return fmt.Errorf("read call: %w", err)
		}
		return d.addOutbox(ctx, tx, EventVoicemailTranscribed, c, map[string]any{"at": now.UTC(), "transcript": text})
	})
	if err != nil {
		return fmt.Errorf("set transcript of %s/%s: %w", provider, callID, err)
	}
	return nil
}
