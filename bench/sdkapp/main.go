// Command sdkapp is the app a user would write with the Go SDK instead of
// ivr, for scripts/load.sh to measure beside it: a chi router, twilio-go's
// client.RequestValidator checking X-Twilio-Signature, and the main menu
// built with twilio-go's twiml package on every request. With -db it also
// keeps a plain call log: one row per request, inserted in a transaction of
// its own with database/sql (SQLite in WAL mode with synchronous=FULL, as
// ivr runs it, or PostgreSQL), committed before the answer.
//
//	go run ./bench/sdkapp -addr 127.0.0.1:0 -token "$TWILIO_AUTH_TOKEN" [-db sqlite:PATH | -db postgres://...]
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	_ "github.com/jackc/pgx/v5/stdlib" // "pgx" for -db postgres://
	"github.com/twilio/twilio-go/client"
	"github.com/twilio/twilio-go/twiml"
	_ "modernc.org/sqlite" // "sqlite" for -db sqlite:PATH
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8091", "listen address (port 0: any free port)")
	token := flag.String("token", os.Getenv("TWILIO_AUTH_TOKEN"), "Twilio auth token (default $TWILIO_AUTH_TOKEN)")
	dsn := flag.String("db", "", "keep a call log in this database (sqlite:PATH or postgres://...); empty: store nothing")
	flag.Parse()
	if *token == "" {
		log.Fatal("sdkapp: -token (or TWILIO_AUTH_TOKEN) is required")
	}
	var db *callLog
	if *dsn != "" {
		var err error
		if db, err = openCallLog(context.Background(), *dsn); err != nil {
			log.Fatalf("sdkapp: %v", err)
		}
		defer db.Close()
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatalf("sdkapp: listen on %s: %v", *addr, err)
	}
	fmt.Printf("sdkapp listening on http://%s\n", ln.Addr())
	srv := &http.Server{
		Handler:           newRouter(*token, db),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      20 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	log.Fatal(srv.Serve(ln))
}

// newRouter is the app: POST /twilio/voice answers with the main menu;
// db nil keeps no log.
func newRouter(token string, db *callLog) http.Handler {
	validator := client.NewRequestValidator(token)
	r := chi.NewRouter()
	r.Post("/twilio/voice", func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		params := make(map[string]string, len(r.PostForm))
		for k, v := range r.PostForm {
			params[k] = v[0]
		}
		if !validator.Validate("http://"+r.Host+r.RequestURI, params, r.Header.Get("X-Twilio-Signature")) {
			http.Error(w, "bad signature", http.StatusForbidden)
			return
		}
		if db != nil {
			if err := db.add(r.Context(), params); err != nil {
				log.Printf("sdkapp: call log: %v", err)
				http.Error(w, "call log", http.StatusInternalServerError)
				return
			}
		}
		body, err := menu()
		if err != nil {
			http.Error(w, "twiml", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/xml")
		_, _ = w.Write([]byte(body))
	})
	return r
}

// menu is the main menu as twilio-go's twiml package renders it.
func menu() (string, error) {
	return twiml.Voice([]twiml.Element{
		&twiml.VoiceGather{
			Action:    "/twilio/voice/menu/main?attempt=1",
			Input:     "dtmf speech",
			NumDigits: "1",
			Timeout:   "6",
			InnerElements: []twiml.Element{&twiml.VoiceSay{
				Message:  "For billing, press 1. For support, press 2. To speak with someone, press 0.",
				Voice:    "Polly.Joanna",
				Language: "en-US",
			}},
		},
		&twiml.VoiceRedirect{Url: "/twilio/voice/menu/main?attempt=1", Method: "POST"},
	})
}

// callLog is the plain call log: one row per request.
type callLog struct {
	*sql.DB
	insert string
}

const createLog = `CREATE TABLE IF NOT EXISTS call_log (
    id          %s,
    call_sid    TEXT NOT NULL,
    from_number TEXT NOT NULL,
    to_number   TEXT NOT NULL,
    status      TEXT NOT NULL,
    at          BIGINT NOT NULL
)`

func openCallLog(ctx context.Context, dsn string) (*callLog, error) {
	driver, name, idCol := "pgx", dsn, "BIGSERIAL PRIMARY KEY"
	if p, ok := strings.CutPrefix(dsn, "sqlite:"); ok {
		driver, idCol = "sqlite", "INTEGER PRIMARY KEY AUTOINCREMENT"
		// The settings ivr's store opens SQLite with (internal/store).
		name = "file:" + strings.TrimPrefix(p, "//") + "?_busy_timeout=10000&_journal_mode=WAL&_synchronous=FULL&_txlock=immediate"
	}
	db, err := sql.Open(driver, name)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", driver, err)
	}
	if driver == "sqlite" {
		db.SetMaxOpenConns(1) // one writer, as SQLite allows
	}
	if _, err := db.ExecContext(ctx, fmt.Sprintf(createLog, idCol)); err != nil {
		db.Close()
		return nil, fmt.Errorf("create call_log: %w", err)
	}
	return &callLog{DB: db, insert: `INSERT INTO call_log (call_sid, from_number, to_number, status, at) VALUES ($1, $2, $3, $4, $5)`}, nil
}

// add logs one request in a transaction of its own.
func (l *callLog) add(ctx context.Context, p map[string]string) error {
	tx, err := l.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, l.insert, p["CallSid"], p["From"], p["To"], p["CallStatus"], time.Now().UnixMicro()); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}
