package jscheck

import (
	"strings"

	"github.com/dop251/goja/ast"
	"github.com/dop251/goja/parser"
	"github.com/dop251/goja/token"
)

// Call is one call of the global require in a file.
type Call struct {
	Line, Column int
	// Module is the name asked for when it is written as a string, else
	// the argument's source text.
	Module string
	// Literal is true when Module is a string written in the code.
	Literal bool
}

// Where gives the call's position as "file:line:column", or "line L:C"
// for code that has no file name.
func (c Call) Where(file string) string {
	if file == "" {
		return "line " + itoa(c.Line) + ":" + itoa(c.Column)
	}
	return file + ":" + itoa(c.Line) + ":" + itoa(c.Column)
}

// Asked renders what the call asks for, as the code reads: require("./lib").
func (c Call) Asked() string {
	if c.Literal {
		return "require(" + quote(c.Module) + ")"
	}
	return "require(" + c.Module + ")"
}

// maxArgText bounds the source text quoted for a computed module name.
const maxArgText = 40

// Requires parses src as the built-in runtime does (a script, not a
// module) and returns the calls of a require that the code does not define
// itself, in source order. The error is the parser's when src does not
// parse; the caller decides what that means (the runtime reports syntax
// errors at /init).
//
// A call counts when its callee is the bare identifier require (also
// parenthesised, or as require?.()) and no enclosing function, nor the
// program, binds that name: a parameter, a var, let or const, a function
// named require, a catch parameter, or an assignment require = ... at any
// level (which replaces the global). Bundles that carry their own
// require, such as browserify's, therefore pass. Scopes are taken per
// function: a let in a block shadows require for the whole function, which
// can only let a call through, never refuse a good one.
func Requires(file, src string) ([]Call, error) {
	// Without source maps: goja's default loader would read the file a
	// sourceMappingURL comment names, on the server's disk.
	prg, err := parser.ParseFile(nil, file, src, 0, parser.WithDisableSourceMaps)
	if err != nil {
		return nil, err
	}
	type found struct {
		call   *ast.CallExpression
		scopes []any
	}
	var calls []found
	binders := map[any]bool{} // scopes that bind the name require
	bind := func(scope any, target ast.Expression) {
		if bindsRequire(target) {
			binders[scope] = true
		}
	}
	w := &walker{visit: func(n any, scopes []any) {
		top := scopes[len(scopes)-1]
		switch n := n.(type) {
		case *ast.CallExpression:
			if isRequire(n.Callee) {
				calls = append(calls, found{n, append([]any(nil), scopes...)})
			}
		case *ast.Binding: // var, let, const, for declarations, parameters
			bind(top, n.Target)
		case *ast.ParameterList:
			bind(top, n.Rest)
		case *ast.ForDeclaration:
			bind(top, n.Target)
		case *ast.CatchStatement:
			bind(top, n.Parameter)
		case *ast.FunctionDeclaration:
			// Hoisted into the enclosing scope; the literal itself is
			// visited next and binds its own name inside itself.
			if n.Function != nil && n.Function.Name != nil {
				bind(top, n.Function.Name)
			}
		case *ast.FunctionLiteral:
			if n.Name != nil {
				bind(n, n.Name)
			}
		case *ast.AssignExpression:
			if n.Operator == token.ASSIGN && isRequire(n.Left) {
				binders[prg] = true
			}
		}
	}}
	w.walk(prg)

	var out []Call
	for _, f := range calls {
		if shadowed(f.scopes, binders) {
			continue
		}
		pos := prg.File.Position(int(f.call.Idx0()) - prg.File.Base())
		c := Call{Line: pos.Line, Column: pos.Column}
		c.Module, c.Literal = moduleOf(src, prg, f.call)
		out = append(out, c)
	}
	return out, nil
}

func shadowed(scopes []any, binders map[any]bool) bool {
	for _, s := range scopes {
		if binders[s] {
			return true
		}
	}
	return false
}

// isRequire reports whether e is the identifier require, possibly as the
// head of an optional call (require?.("x")).
func isRequire(e ast.Expression) bool {
	if o, ok := e.(*ast.Optional); ok {
		e = o.Expression
	}
	id, ok := e.(*ast.Identifier)
	return ok && id.Name == "require"
}

// bindsRequire reports whether a binding target (an identifier or a
// destructuring pattern) declares the name require. Default values inside
// a pattern are expressions, not bindings, and are not looked into.
func bindsRequire(target ast.Expression) bool {
	switch t := target.(type) {
	case *ast.Identifier:
		return t.Name == "require"
	case *ast.AssignExpression: // a pattern element with a default value
		return bindsRequire(t.Left)
	case *ast.ArrayPattern:
		for _, e := range t.Elements {
			if bindsRequire(e) {
				return true
			}
		}
		return bindsRequire(t.Rest)
	case *ast.ObjectPattern:
		for _, p := range t.Properties {
			switch p := p.(type) {
			case *ast.PropertyShort:
				if p.Name.Name == "require" {
					return true
				}
			case *ast.PropertyKeyed:
				if bindsRequire(p.Value) {
					return true
				}
			}
		}
		return bindsRequire(t.Rest)
	}
	return false
}

// moduleOf gives the module a call asks for: a string or a template
// without substitutions as written, else the argument's source text.
func moduleOf(src string, prg *ast.Program, call *ast.CallExpression) (string, bool) {
	if len(call.ArgumentList) == 0 {
		return "", false
	}
	arg := call.ArgumentList[0]
	switch a := arg.(type) {
	case *ast.StringLiteral:
		return a.Value.String(), true
	case *ast.TemplateLiteral:
		if a.Tag == nil && len(a.Expressions) == 0 && len(a.Elements) == 1 {
			return a.Elements[0].Parsed.String(), true
		}
	}
	base := prg.File.Base()
	from, to := int(arg.Idx0())-base, int(arg.Idx1())-base
	if from < 0 || to > len(src) || from >= to {
		return "…", false
	}
	text := strings.Join(strings.Fields(src[from:to]), " ")
	if len(text) > maxArgText {
		text = strings.ToValidUTF8(text[:maxArgText], "") + "…"
	}
	return text, false
}
