package ivr

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	exprparser "github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/vm"
)

// Conditions (switch if:) are expr-lang expressions, compiled once at load
// and type-checked against the flow's variables. The language is cut down
// to what a phone menu needs: comparisons (== != < <= > >=), && || ! (and,
// or, not), parentheses, names, and string, number and true/false literals.
//
// The rule for numbers: a variable is text. Compared with a number literal
// (balance > 0) or with another variable, both sides compare as numbers when
// both read as decimal numbers ("42.50", "-3", "7"; no exponent, no spaces),
// otherwise as text. Compared with a string literal (status == "active",
// account == "00123") it compares as text. A variable compared with a number
// literal that does not read as a number is never equal, never less and never
// greater. from, to, provider and language are plain text; open is true or
// false (within the flow's hours now); now_hour (0-23) and now_weekday (1 =
// Monday .. 7 = Sunday) are whole numbers in the hours' time zone (UTC
// without hours). The time is the request's (Call.Now): the engine reads no clock.

// cmpValue is a variable's value as conditions see it.
type cmpValue struct{ s string }

// condOps are the operators a condition may use.
var condOps = map[string]bool{
	"==": true, "!=": true, "<": true, "<=": true, ">": true, ">=": true,
	"&&": true, "||": true, "and": true, "or": true, "!": true, "not": true, "-": true,
}

const maxCondLen = 500

// condition is a compiled switch condition.
type condition struct {
	prog  *vm.Program
	names []string // names it reads, in order of first use
}

// condError is a problem in a condition at a byte offset of its text.
type condError struct {
	off int
	msg string
}

func (e *condError) Error() string { return e.msg }

// maxConditions caps the switch conditions of a flow (each costs a
// compilation when the flow loads).
const maxConditions = 256

// compileCond checks and compiles src. vars are the flow's variable names;
// onError: src is in a fetch's on_error, where it may read error.
func compileCond(src string, vars []string, onError bool) (c *condition, err error) {
	defer func() {
		if r := recover(); r != nil {
			c, err = nil, &condError{0, fmt.Sprintf("condition: cannot compile: %v", r)}
		}
	}()
	if strings.TrimSpace(src) == "" {
		return nil, &condError{0, "the condition is empty: write e.g. 'status == \"active\"'"}
	}
	if len(src) > maxCondLen {
		return nil, &condError{0, fmt.Sprintf("the condition is %d characters, more than %d", len(src), maxCondLen)}
	}
	tree, err := exprparser.Parse(src)
	if err != nil {
		return nil, exprError(src, err)
	}
	c = &condition{}
	v := &condVisitor{src: src, known: vars, c: c, onError: onError}
	ast.Walk(&tree.Node, v)
	if v.err != nil {
		return nil, v.err
	}
	env := condEnv(vars)
	if onError {
		env[ErrorName] = ""
	}
	prog, err := expr.Compile(src, append(condOptions(), expr.Env(env), expr.AsBool())...)
	if err != nil {
		return nil, exprError(src, err)
	}
	c.prog = prog
	return c, nil
}

// exprError turns an expr error into a condError without expr's snippet.
func exprError(src string, err error) error {
	var fe *file.Error
	if errors.As(err, &fe) {
		msg := strings.ReplaceAll(fe.Message, "ivr.cmpValue", "variable")
		if strings.Contains(msg, "invalid operation") || strings.Contains(msg, "mismatched types") {
			msg += " (compare variables with == != < <= > >=, and join comparisons with && || !)"
		} else {
			msg = syntaxHint(msg)
		}
		return &condError{runeOffset(src, fe.From), "condition: " + msg}
	}
	msg := strings.ReplaceAll(err.Error(), "ivr.cmpValue", "variable")
	if strings.HasPrefix(msg, "expected bool") {
		msg += ": compare it, e.g. status == \"active\" or balance > 0"
	}
	return &condError{0, "condition: " + msg}
}

// syntaxHint turns expr's parser messages into what to write instead.
func syntaxHint(msg string) string {
	const how = `: write comparisons joined by && or ||, e.g. status == "active" && balance > 0`
	switch {
	case msg == "unexpected token EOF":
		return "it ends too early: a comparison is missing after the last operator, or a ( is not closed" + how
	case msg == "literal not terminated":
		return "a text in quotes is not closed: end it with the same quote"
	case strings.HasPrefix(msg, `unexpected token Operator("=")`):
		return `"=" alone is not a comparison: write == (or !=, <=, >=)`
	case strings.HasPrefix(msg, `unexpected token Operator("&")`):
		return `"&" alone is not allowed: write && (and)`
	case strings.HasPrefix(msg, `unexpected token Operator("|")`):
		return `"|" alone is not allowed: write || (or)`
	case strings.HasPrefix(msg, "unexpected token Identifier("):
		return "unexpected name " + strings.TrimSuffix(strings.TrimPrefix(msg, "unexpected token Identifier("), ")") + how
	case strings.HasPrefix(msg, "unexpected token "):
		return "unexpected " + strings.TrimPrefix(msg, "unexpected token ") + how
	}
	return msg
}

func runeOffset(s string, runes int) int {
	i := 0
	for off := range s {
		if i == runes {
			return off
		}
		i++
	}
	return len(s)
}

type condVisitor struct {
	src     string
	known   []string
	onError bool
	c       *condition
	err     *condError
}

func (v *condVisitor) fail(n ast.Node, format string, args ...any) {
	if v.err == nil {
		v.err = &condError{runeOffset(v.src, n.Location().From), fmt.Sprintf(format, args...)}
	}
}

func (v *condVisitor) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.IdentifierNode:
		name := n.Value
		if name == ErrorName && !v.onError {
			v.fail(n, "condition: error is only known in a fetch's on_error, where it says why the fetch failed (%s)", failureList())
			return
		}
		if name != ErrorName && !isCondName(name, v.known) {
			all := append(append([]string(nil), v.known...), callNames...)
			v.fail(n, "condition: unknown name %q: conditions read the flow's variables and %s%s", name, strings.Join(callNames, ", "), suggest(name, all))
			return
		}
		for _, s := range v.c.names {
			if s == name {
				return
			}
		}
		v.c.names = append(v.c.names, name)
	case *ast.BinaryNode:
		if !condOps[n.Operator] {
			v.fail(n, "condition: %q is not allowed: use == != < <= > >=, && || !", n.Operator)
		}
		v.failureLiteral(n)
	case *ast.UnaryNode:
		if !condOps[n.Operator] {
			v.fail(n, "condition: %q is not allowed: use == != < <= > >=, && || !", n.Operator)
		}
	case *ast.StringNode, *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode:
	default:
		v.fail(*node, "condition: only names, text in quotes, numbers, true/false, comparisons and && || ! are allowed")
	}
}

// callNames are the call details conditions may read.
var callNames = []string{"from", "to", "provider", "language", "open", "now_hour", "now_weekday"}

// callTypes are the types of callNames that are not text.
var callTypes = map[string]any{"open": true, "now_hour": 0, "now_weekday": 0}

func isCondName(name string, vars []string) bool {
	for _, s := range callNames {
		if s == name {
			return true
		}
	}
	for _, s := range vars {
		if s == name {
			return true
		}
	}
	return false
}

// condEnv is the type environment: variables are cmpValue, call details text.
func condEnv(vars []string) map[string]any {
	env := make(map[string]any, len(vars)+len(callNames))
	for _, v := range vars {
		env[v] = cmpValue{}
	}
	for _, n := range callNames {
		env[n] = ""
		if t, ok := callTypes[n]; ok {
			env[n] = t
		}
	}
	return env
}

// condOptions: no builtins, and the comparison operators on variables
// overloaded with the number rule above.
func condOptions() []expr.Option {
	opts := []expr.Option{expr.DisableAllBuiltins(), expr.MaxNodes(200)}
	for _, op := range []string{"==", "!=", "<", "<=", ">", ">="} {
		name := "__cmp" + strconv.Itoa(len(op)) + string(op[0])
		fn := cmpFunc(op)
		opts = append(opts,
			expr.Function(name, fn,
				new(func(cmpValue, cmpValue) bool),
				new(func(cmpValue, string) bool), new(func(string, cmpValue) bool),
				new(func(cmpValue, int) bool), new(func(int, cmpValue) bool),
				new(func(cmpValue, float64) bool), new(func(float64, cmpValue) bool),
			),
			expr.Operator(op, name))
	}
	return opts
}

// operand is one side of a comparison: text, and its number when it has one.
type operand struct {
	s     string
	n     float64
	isNum bool
	text  bool // a string literal: compare as text
}

func toOperand(x any) operand {
	switch v := x.(type) {
	case cmpValue:
		n, ok := readNumber(v.s)
		return operand{s: v.s, n: n, isNum: ok}
	case string:
		return operand{s: v, text: true}
	case int:
		return operand{n: float64(v), isNum: true}
	case float64:
		return operand{n: v, isNum: true}
	}
	return operand{}
}

func cmpFunc(op string) func(params ...any) (any, error) {
	return func(params ...any) (any, error) {
		a, b := toOperand(params[0]), toOperand(params[1])
		var c int
		switch {
		case a.text || b.text:
			c = strings.Compare(a.s, b.s)
		case a.isNum && b.isNum:
			switch {
			case a.n < b.n:
				c = -1
			case a.n > b.n:
				c = 1
			}
		default:
			if _, aVar := params[0].(cmpValue); aVar {
				if _, bVar := params[1].(cmpValue); bVar {
					c = strings.Compare(a.s, b.s)
					break
				}
			}
			// text against a number literal: only != holds.
			return op == "!=", nil
		}
		switch op {
		case "==":
			return c == 0, nil
		case "!=":
			return c != 0, nil
		case "<":
			return c < 0, nil
		case "<=":
			return c <= 0, nil
		case ">":
			return c > 0, nil
		}
		return c >= 0, nil
	}
}

// readNumber reads a plain decimal number: optional sign, digits, optional
// fraction. Nothing else (no exponent, hex, spaces, inf or NaN).
func readNumber(s string) (float64, bool) {
	if len(s) == 0 || len(s) > 32 {
		return 0, false
	}
	i := 0
	if s[0] == '-' || s[0] == '+' {
		i++
	}
	digits, dot := 0, false
	for ; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' && !dot:
			dot = true
		default:
			return 0, false
		}
	}
	if digits == 0 || s[len(s)-1] == '.' {
		return 0, false
	}
	n, err := strconv.ParseFloat(s, 64)
	return n, err == nil
}

// eval runs the condition over env (see runner.condEnv). A run-time error
// (none is expected after type checking) counts as false.
func (c *condition) eval(env map[string]any) (bool, error) {
	out, err := expr.Run(c.prog, env)
	if err != nil {
		return false, err
	}
	b, _ := out.(bool)
	return b, nil
}

// failureLiteral reports a comparison of error with a text that is not a
// Failure: such a branch would never (or always) be taken.
func (v *condVisitor) failureLiteral(n *ast.BinaryNode) {
	if n.Operator != "==" && n.Operator != "!=" {
		return
	}
	for _, pair := range [][2]ast.Node{{n.Left, n.Right}, {n.Right, n.Left}} {
		id, isID := pair[0].(*ast.IdentifierNode)
		lit, isLit := pair[1].(*ast.StringNode)
		if isID && isLit && id.Value == ErrorName && !slices.Contains(Failures, Failure(lit.Value)) {
			v.fail(lit, "condition: error is never %q: it is one of %s%s", lit.Value, failureList(), suggest(lit.Value, failureNames()))
		}
	}
}

// failureList is the Failures for messages: "not_found, timeout, ...".
func failureList() string { return strings.Join(failureNames(), ", ") }

func failureNames() []string {
	out := make([]string, len(Failures))
	for i, f := range Failures {
		out[i] = string(f)
	}
	return out
}
