package ivr

// The prompts of a step: a menu's Gather (its greeting, or a lead prompt
// then its short greeting), and each say, play and pause in the call's
// language and voice.

// render emits m's Gather and the Redirect that brings a silent caller back
// to the same URL as a timeout.
func (r *runner) render(m *Menu, st state, lead []Action, short bool) {
	greeting := m.Greeting
	if short && len(m.ShortGreeting) > 0 {
		greeting = m.ShortGreeting
	}
	prompts := make([]Step, 0, len(lead)+len(greeting))
	for i := range lead {
		prompts = append(prompts, r.prompt(&lead[i], m))
	}
	for i := range greeting {
		prompts = append(prompts, r.prompt(&greeting[i], m))
	}
	g := r.gather(m, st, prompts)
	if c := m.Collect; c != nil {
		g.NumDigits, g.FinishOnKey = c.MaxDigits, c.FinishKey
	}
	r.steps = append(r.steps, g, Redirect{Target: g.Action})
}

// gather is m's Gather with prompts, its action URL carrying st: keys, and
// speech unless the menu has none or st asks for keys only.
func (r *runner) gather(m *Menu, st state, prompts []Step) Gather {
	st.Lang, st.Trail = r.lang, r.trail
	g := Gather{
		Action:            Target{Path: m.urlPath(), Query: r.encode(st)},
		Prompts:           prompts,
		NumDigits:         m.Digits,
		TimeoutSeconds:    m.TimeoutSeconds,
		InterDigitSeconds: m.InterDigitSeconds,
		FinishOnKey:       m.FinishKey,
		DTMF:              true,
	}
	if m.Speech != nil && !st.Keys {
		g.Speech = true
		g.SpeechHints = m.Speech.Hints
		g.Language = m.Speech.Language
		if g.Language == "" {
			g.Language = r.lang
		}
	}
	return g
}

// prompt turns a say, play or pause action into its Step.
func (r *runner) prompt(a *Action, m *Menu) Step {
	switch a.Kind {
	case KindPlay:
		return Play{URL: a.URL, Loop: a.Loop}
	case KindPause:
		return Pause{Seconds: a.Seconds}
	}
	f := r.f
	text, lang := a.Text.Plain, a.Language
	if len(a.Text.Langs) > 0 {
		text, lang = pickText(a.Text.Langs, r.lang, f.Language)
	} else if lang == "" {
		if m != nil && m.Language != "" {
			lang = m.Language
		} else {
			lang = f.Language
		}
	}
	voice := a.Voice
	if voice == "" {
		if lc := f.langs[lang]; lc != nil {
			voice = lc.Voice
		}
	}
	if voice == "" && m != nil {
		voice = m.Voice
	}
	if voice == "" {
		voice = f.Voice
	}
	return Say{Text: expand(text, r.spoken), Voice: voice, Language: lang, Loop: a.Loop}
}

func pickText(ts []LangText, want, fallback string) (string, string) {
	for _, t := range ts {
		if t.Lang == want {
			return t.Text, t.Lang
		}
	}
	for _, t := range ts {
		if t.Lang == fallback {
			return t.Text, t.Lang
		}
	}
	return ts[0].Text, ts[0].Lang
}

// spoken is the value of a placeholder in a voice prompt.
func (r *runner) spoken(name string) string {
	switch name {
	case "from":
		return spokenNumber(r.call.From)
	case "to":
		return spokenNumber(r.call.To)
	case "call_center":
		return spokenNumber(r.f.CallCenterNumber)
	}
	return r.value(name)
}
