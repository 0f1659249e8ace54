package ivr

import (
	"strings"

	"gopkg.in/yaml.v3"
)

var smsKeys = []string{"keywords", "default"}

func (p *parser) sms(n *yaml.Node) {
	for _, kv := range p.mapping(n, "sms", smsKeys) {
		switch kv.k.Value {
		case "default":
			if !isNull(kv.v) {
				if s, ok := p.str(kv.v, "sms default"); ok {
					p.f.SMS.Default = s
					p.template(kv.v, s, tmplSMS)
				}
			}
		case "keywords":
			seen := map[string]*yaml.Node{}
			for _, kw := range p.mapping(kv.v, "sms keywords", nil) {
				w := strings.ToUpper(kw.k.Value)
				if len(words(w)) != 1 || words(w)[0] != strings.ToLower(w) {
					p.errf(kw.k, "sms keyword %q must be one word of letters or digits", kw.k.Value)
					continue
				}
				if prev := seen[w]; prev != nil {
					p.errf(kw.k, "sms keyword %q is already given at line %d (keywords ignore case)", kw.k.Value, prev.Line)
					continue
				}
				seen[w] = kw.k
				reply := ""
				if !isNull(kw.v) {
					reply, _ = p.str(kw.v, "sms reply")
					p.template(kw.v, reply, tmplSMS)
				}
				p.f.SMS.Keywords = append(p.f.SMS.Keywords, Keyword{Word: w, Reply: reply})
			}
		}
	}
}
