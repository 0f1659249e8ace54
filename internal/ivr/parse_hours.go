package ivr

import (
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

var (
	hoursKeys    = []string{"time_zone", "weekly", "holidays", "overrides", "closed"}
	overrideKeys = []string{"date", "open", "closed"}
)

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
		case "overrides":
			h.Overrides = p.overrides(kv.v)
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
		spans := p.spans(kv.v, "hours of "+kv.k.Value)
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

// spans reads one opening span ("08:00-18:00", "open", "closed") or a list of them.
func (p *parser) spans(n *yaml.Node, what string) []Span {
	var spans []Span
	items := []*yaml.Node{n}
	if n.Kind == yaml.SequenceNode {
		items = n.Content
	}
	for _, it := range items {
		s, ok := p.str(it, what)
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
	return spans
}

// overrides reads [{date: 2026-12-24, open: "09:00-13:00"}, {date: 2026-12-31, closed: true}].
func (p *parser) overrides(n *yaml.Node) []Override {
	if n.Kind != yaml.SequenceNode {
		if !isNull(n) {
			p.errf(n, "overrides must be a list like - {date: 2026-12-24, open: \"09:00-13:00\"} or - {date: 2026-12-31, closed: true}")
		}
		return nil
	}
	var out []Override
	seen := map[Holiday]int{}
	for _, it := range n.Content {
		o, ok := p.override(it)
		if !ok {
			continue
		}
		if line, dup := seen[o.Date]; dup {
			p.errf(it, "the date is already overridden at line %d: give each date once", line)
			continue
		}
		seen[o.Date] = it.Line
		out = append(out, o)
	}
	return out
}

func (p *parser) override(n *yaml.Node) (Override, bool) {
	const how = "an override needs date: and either open: \"HH:MM-HH:MM\" (shorter hours that day) or closed: true"
	var o Override
	var dateNode, openNode, closedNode *yaml.Node
	for _, kv := range p.mapping(n, "an override", overrideKeys) {
		switch kv.k.Value {
		case "date":
			dateNode = kv.v
		case "open":
			openNode = kv.v
		case "closed":
			closedNode = kv.v
		}
	}
	if n.Kind != yaml.MappingNode {
		return o, false
	}
	if dateNode == nil {
		p.errf(n, "%s", how)
		return o, false
	}
	s, ok := p.str(dateNode, "override date")
	if !ok {
		return o, false
	}
	d, err := parseHoliday(s)
	if err != nil {
		p.errf(dateNode, "%v", err)
		return o, false
	}
	o.Date = d
	switch {
	case openNode != nil && closedNode != nil:
		p.errf(closedNode, "an override is open: (shorter hours) or closed: true, not both")
		return o, false
	case openNode != nil:
		o.Spans = p.spans(openNode, "override open")
		return o, true
	case closedNode != nil:
		b, ok := p.boolean(closedNode, "override closed")
		if ok && !b {
			p.errf(closedNode, "closed: false says nothing: give open: \"HH:MM-HH:MM\" for that day's hours, or remove the override")
		}
		return o, ok && b
	}
	p.errf(n, "%s", how)
	return o, false
}
