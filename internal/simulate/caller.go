package simulate

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/ivr-project/ivr/internal/xml"
)

// reply is what the caller does at a gather.
type reply struct {
	keys       string // pressed keys, raw (finishOnKey included)
	speech     string
	confidence string // the recognizer's confidence in speech ("" = carrier.DefaultConfidence)
	hangup     bool   // the caller hangs up
	why        string // for the transcript when hangup
}

// caller answers gathers: from a script (--digits/--speech) or a terminal.
type caller interface {
	respond(ctx context.Context, g xml.Gather) (reply, error)
}

// script plays --digits and --speech: a gather takes the next --digits entry
// when it accepts keys and one is left, else the next --speech entry when it
// accepts speech and one is left; with nothing left the caller hangs up.
// Entries "" and "timeout" are silence, "hangup" hangs up.
type script struct {
	digits, speech []string
}

// splitScript splits a comma-separated script; keys entries must be keys.
func splitScript(s string, keys bool) ([]string, error) {
	entries := strings.Split(s, ",")
	for i, e := range entries {
		e = strings.TrimSpace(e)
		entries[i] = e
		if keys && !isWord(e) && !onlyKeys(e) {
			return nil, fmt.Errorf("--digits entry %q: keys are 0-9, * and # (or \"timeout\", \"hangup\")", e)
		}
	}
	return entries, nil
}

func isWord(e string) bool { return e == "" || e == "timeout" || e == "hangup" }

func onlyKeys(s string) bool {
	return s != "" && strings.Trim(s, "0123456789*#") == ""
}

func (s *script) respond(_ context.Context, g xml.Gather) (reply, error) {
	var entry string
	speech := false
	switch {
	case g.DTMF && len(s.digits) > 0:
		entry, s.digits = s.digits[0], s.digits[1:]
	case g.Speech && len(s.speech) > 0:
		entry, s.speech = s.speech[0], s.speech[1:]
		speech = true
	default:
		return reply{hangup: true, why: "no more scripted input"}, nil
	}
	switch {
	case entry == "" || entry == "timeout":
		return reply{}, nil
	case entry == "hangup":
		return reply{hangup: true, why: "scripted"}, nil
	case speech:
		return said(entry), nil
	}
	return reply{keys: entry}, nil
}

// said is speech that may end in "@confidence" ("billing@0.2"): the
// recognizer's confidence the provider reports with the transcript.
func said(entry string) reply {
	text, conf, ok := strings.Cut(entry, "@")
	if v, err := strconv.ParseFloat(strings.TrimSpace(conf), 64); ok && err == nil && v >= 0 && v <= 1 && strings.TrimSpace(text) != "" {
		return reply{speech: strings.TrimSpace(text), confidence: strings.TrimSpace(conf)}
	}
	return reply{speech: entry}
}

// terminal asks a person: one line per gather. Keys (0-9 * #) are pressed,
// other text is said (when the gather takes speech); an empty line is
// silence; end of input hangs up.
type terminal struct {
	prompt io.Writer
	in     io.Reader
	lines  chan string // closed at end of input
}

func (t *terminal) readLines() {
	defer close(t.lines)
	if t.in == nil {
		return
	}
	sc := bufio.NewScanner(t.in)
	for sc.Scan() {
		t.lines <- sc.Text()
	}
}

func (t *terminal) respond(ctx context.Context, g xml.Gather) (reply, error) {
	if t.lines == nil {
		t.lines = make(chan string)
		// Blocks on the reader until a line comes; when ctx ends first the
		// goroutine stays parked on stdin until the program exits.
		go t.readLines()
	}
	for {
		ask := "press keys"
		switch {
		case g.DTMF && g.Speech:
			ask = "press keys or say something"
		case g.Speech:
			ask = "say something"
		}
		fmt.Fprintf(t.prompt, "%s (empty line = silence, Ctrl-D = hang up)> ", ask)
		var line string
		var ok bool
		select {
		case <-ctx.Done():
			return reply{}, ctx.Err()
		case line, ok = <-t.lines:
		}
		if !ok {
			fmt.Fprintln(t.prompt)
			return reply{hangup: true, why: "end of input"}, nil
		}
		line = strings.TrimSpace(line)
		switch {
		case line == "" || line == "timeout":
			return reply{}, nil
		case line == "hangup":
			return reply{hangup: true, why: "typed hangup"}, nil
		case g.DTMF && onlyKeys(line):
			return reply{keys: line}, nil
		case g.Speech:
			return said(line), nil
		}
		fmt.Fprintln(t.prompt, "keys are 0-9, * and #")
	}
}
