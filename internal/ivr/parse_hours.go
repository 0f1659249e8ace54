package ivr

import (
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

var hoursKeys = []string{"time_zone", "weekly", "holidays", "closed"}

func (p *parser) hours(n *yaml.Node) *Hours {
	h := &Hours{}
	var tzNode, closedNode, weeklyNode *yaml.Node
	for _, kv := range p.mapping(n, "hours", hoursKeys) {
		switch kv.k.Value {
		case "time_zone":
			tzNode = kv.v
			s, ok := p.str(kv.v, "time_zone")
			if !ok {
				continue
			}
			loc, err := time.LoadLocation(s)
			if s == "" || s == "Local" || err != nil {
				p.errf(kv.v, "unknown time zone %q: use an IANA name like America/New_York, Europe/Madrid or UTC", s)
				continue
			}
			h.TimeZone, h.loc = s, loc
		case "weekly":
			weeklyNode = kv.v
			p.weekly(h, kv.v)
		case "holidays":
			if kv.v.Kind != yaml.SequenceNode && !isNull(kv.v) {
				p.errf(kv.v, "holidays must be a list of dates like - 2026-12-25 (one day) or - 12-25 (every year)")
				continue
			}
			for _, it := range kv.v.Content {
				s, ok := p.str(it, "holiday")
				if !ok {
					continue
				}
				hd, err := parseHoliday(s)
				if err != nil {
					p.errf(it, "%v", err)
					continue
				}
				h.Holidays = append(h.Holidays, hd)
			}
		case "closed":
			closedNode = kv.v
			h.Closed = p.actions(kv.v, "closed", false)
		}
	}
	if tzNode == nil {
		p.errf(n, "hours needs time_zone, e.g. time_zone: America/New_York")
	}
	if weeklyNode == nil {
		p.errf(n, "hours needs weekly: the opening hours per day, e.g. weekly: {mon-fri: \"09:00-17:00\"} (mon-sun: open for always)")
	}
	if closedNode == nil {
		p.errf(n, "hours needs closed: what callers hear when closed, e.g. closed: [{say: \"We are closed.\"}, voicemail]")
	}
	return h
}

func (p *parser) weekly(h *Hours, n *yaml.Node) {
	var seen [7]*yaml.Node
	for _, kv := range p.mapping(n, "weekly", nil) {
		days, err := parseDays(kv.k.Value)
		if err != nil {
			p.errf(kv.k, "%v", err)
			continue
		}
		var spans []Span
		items := []*yaml.Node{kv.v}
		if kv.v.Kind == yaml.SequenceNode {
			items = kv.v.Content
		}
		for _, it := range items {
			s, ok := p.str(it, "hours of "+kv.k.Value)
			if !ok {
				continue
			}
			switch strings.ToLower(strings.TrimSpace(s)) {
			case "closed":
				continue
			case "open", "24h":
				spans = append(spans, Span{0, 24 * 60})
				continue
			}
			sp, err := parseSpan(s)
			if err != nil {
				p.errf(it, "%v", err)
				continue
			}
			spans = append(spans, sp)
		}
		for _, d := range days {
			if prev := seen[d]; prev != nil {
				p.errf(kv.k, "%s is already given at line %d: list each day once", strings.ToLower(d.String()[:3]), prev.Line)
				continue
			}
			seen[d] = kv.k
			h.Weekly[d] = spans
		}
	}
}
