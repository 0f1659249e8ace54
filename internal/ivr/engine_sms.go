package ivr

import "strings"

// Reply answers an inbound SMS by keyword: the first word of the text,
// case-insensitively. A keyword with an empty reply (e.g. STOP, which the
// provider handles) and an unmatched text without a default give no Message.
func (f *Flow) Reply(m SMS) (Result, error) {
	ws := words(m.Text)
	first := ""
	if len(ws) > 0 {
		first = strings.ToUpper(ws[0])
	}
	reply, ev := f.SMS.Default, Event{At: m.Now, Kind: EventSMS}
	for _, k := range f.SMS.Keywords {
		if k.Word == first {
			reply, ev.Key, ev.Heard, ev.Entry = k.Reply, k.Word, HeardKeyword, first
			break
		}
	}
	res := Result{}
	if reply == "" {
		ev.Kind = EventSMSNoReply
		res.Events = []Event{ev}
		return res, nil
	}
	text := expand(reply, func(name string) string {
		switch name {
		case "from":
			return writtenNumber(m.From)
		case "to":
			return writtenNumber(m.To)
		case "call_center":
			return f.CallCenterNumber
		}
		return ""
	})
	res.Steps = []Step{Message{Text: text, To: m.From, From: m.To}}
	res.Events = []Event{ev}
	return res, nil
}
