package ivr

import (
	"slices"
	"time"
)

// Number is an entry of numbers: the number called chooses where a call
// starts and in which language.
type Number struct {
	Number   string // E.164 as written ("+15550000002"); Plivo's "15550000002" matches it
	Entry    string // entry menu id
	Language string // call language; "" = the flow's
	Line     int
}

// Collect is a menu's collect: digits (or spoken digits where the menu takes
// speech) into a variable, then Actions.
type Collect struct {
	Into                 string // variable name
	MinDigits, MaxDigits int
	FinishKey            string // "" = none (a pause or MaxDigits ends the entry)
	// Confirm, when set, is said after a valid entry (it may read the value
	// back: {{into | digits}}): 1 accepts and Actions run, 2 or silence
	// twice asks for the entry again.
	Confirm   []Action
	Actions   []Action
	Line, Col int

	finishSet bool
}

// Assign is one variable of a set action.
type Assign struct {
	Name  string
	Value string // template with {{...}}
}

// Branch is one branch of a switch: If is the condition's text, "" for else.
// A split's variants are Branches too, with a Label and a Weight and no If.
type Branch struct {
	If        string
	Label     string // split variant
	Weight    int    // split variant: its share of the calls
	Actions   []Action
	Line, Col int

	cond *condition
	// shown is the condition as the call record shows it (cut to 60
	// characters): made once at load, not on every step.
	shown string
}

// Shown is the branch's condition as call records show it (the switch
// event's Cond): the flow map matches a branch's recorded counts with it.
func (b *Branch) Shown() string { return b.shown }

// HTTPRequest is one of the flow's requests:.
type HTTPRequest struct {
	Name    string
	Method  string // GET or POST
	URL     string // template
	Headers []Header
	Body    *BodyValue // POST only; nil = no body
	Timeout time.Duration
	Save    []SaveField
	Line    int

	secrets []string // secret names used in URL and headers
}

// Header is one request header; Value is a template.
type Header struct{ Name, Value string }

// SaveField saves the value at Path of the JSON answer into Var.
type SaveField struct{ Var, Path string }

// BodyValue is a JSON body template: an object (Keys/Values), an array
// (Values), a literal (Raw: number, true, false, null) or text (Text,
// a template whose expansion is JSON-encoded).
type BodyValue struct {
	Keys   []string
	Values []*BodyValue
	Array  bool
	Raw    string
	Text   string
	IsText bool
}

// Secrets lists the secret names the flow's requests use ({{secret.NAME}},
// read from IVR_SECRET_NAME), sorted, each once: the server can check they
// are set when it loads the flow.
func (f *Flow) Secrets() []string {
	var out []string
	for _, r := range f.Requests {
		for _, s := range r.secrets {
			if !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	slices.Sort(out)
	return out
}
