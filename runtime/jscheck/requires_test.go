package jscheck

import (
	"reflect"
	"strings"
	"testing"
)

func TestRequires(t *testing.T) {
	lit := func(line, col int, module string) Call {
		return Call{Line: line, Column: col, Module: module, Literal: true}
	}
	tests := []struct {
		name string
		src  string
		want []Call // nil: no call counts
	}{
		{name: "no require", src: `function main(p) { return {a: 1} }`},
		{name: "in a string", src: `var s = "require('x')"; var t = 'require("y")'`},
		{name: "in comments", src: "// require('x')\n/* require(\"y\") */\nfunction main() {}"},
		{name: "in a template literal", src: "var s = `require('x')`"},
		{name: "in a regexp", src: `var r = /require\('x'\)/`},
		{name: "a method named require", src: `obj.require('x'); obj["require"]('y')`},
		{name: "typeof and reference only", src: `var ok = typeof require === 'function' && require`},
		{name: "new require is not a call", src: `new require('x')`},

		{name: "top level", src: `require('x')`, want: []Call{lit(1, 1, "x")}},
		{name: "destructuring const", src: `const {a} = require("./lib")`, want: []Call{lit(1, 13, "./lib")}},
		{name: "var counted once", src: `var a = require('a'), b = 1`, want: []Call{lit(1, 9, "a")}},
		{name: "nested in a function", src: "function main() {\n  return require('fs').readFileSync('/etc/hostname')\n}", want: []Call{lit(2, 10, "fs")}},
		{name: "in an arrow function", src: `const f = () => require('a')`, want: []Call{lit(1, 17, "a")}},
		{name: "in a method", src: "class A {\n  m() { return require('m') }\n}", want: []Call{lit(2, 16, "m")}},
		{name: "in a class field", src: `class A { x = require('y') }`, want: []Call{lit(1, 15, "y")}},
		{name: "in a template substitution", src: "var s = `${require('t')}`", want: []Call{lit(1, 12, "t")}},
		{name: "template name", src: "require(`tpl`)", want: []Call{lit(1, 1, "tpl")}},
		{name: "computed name", src: `require(prefix + "/x")`, want: []Call{{Line: 1, Column: 1, Module: `prefix + "/x"`}}},
		{name: "no argument", src: `require()`, want: []Call{{Line: 1, Column: 1}}},
		{name: "parenthesised", src: `(require)('p')`, want: []Call{lit(1, 2, "p")}},
		{name: "optional call", src: `require?.('o')`, want: []Call{lit(1, 1, "o")}},
		{name: "unicode escape", src: `\u0072equire('u')`, want: []Call{lit(1, 1, "u")}},
		{name: "parameter default is not a binding", src: `function f(a = require('d')) {}`, want: []Call{lit(1, 16, "d")}},
		{name: "pattern default is not a binding", src: `const {a = require('d')} = {}`, want: []Call{lit(1, 12, "d")}},
		{name: "two calls in order", src: "var a = require('a')\nvar b = require('b')", want: []Call{lit(1, 9, "a"), lit(2, 9, "b")}},

		// Code that defines its own require may call it.
		{name: "parameter", src: `function f(require) { return require('x') }`},
		{name: "destructured parameter", src: `function f({require}) { return require('x') }`},
		{name: "rest parameter", src: `function f(...require) { return require('x') }`},
		{name: "arrow parameter", src: `var f = require => require('x')`},
		{name: "browserify-style bundle", src: `(function(){})()({1:[function(require,module,exports){ var x = require('./x') }, {}]}, {}, [1])`},
		{name: "top-level function declaration", src: `require('x'); function require(m) { return {} }`},
		{name: "top-level var", src: `var require = function(m) { return {} }; require('x')`},
		{name: "assignment", src: `require = function(m) { return {} }; require('x')`},
		{name: "catch parameter", src: `try {} catch (require) { require('x') }`},
		{name: "named function expression", src: `var g = function require(n) { return n && require(n - 1) }`},
		{name: "let in a block shadows for its function", src: `function f() { { let require = g } return require('x') }`},
		{name: "local var shadows only its function", src: "function f() { var require = g; return require('x') }\nrequire('y')", want: []Call{lit(2, 1, "y")}},
		{name: "local function declaration", src: "function f() { function require() {} return require('x') }\nfunction h() { return require('z') }", want: []Call{lit(2, 23, "z")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Requires("t.js", tt.src)
			if err != nil {
				t.Fatalf("Requires: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Requires(%q)\n got %+v\nwant %+v", tt.src, got, tt.want)
			}
		})
	}
}

func TestRequiresSyntaxError(t *testing.T) {
	for _, src := range []string{`function main( {`, `import x from "x"`, `require('x'`} {
		if calls, err := Requires("t.js", src); err == nil {
			t.Errorf("Requires(%q) = %+v, nil; want the parser's error", src, calls)
		}
	}
}

func TestRequiresLongComputedName(t *testing.T) {
	src := "require(" + strings.Repeat("a + ", 30) + "b)"
	got, err := Requires("", src)
	if err != nil || len(got) != 1 {
		t.Fatalf("Requires = %+v, %v", got, err)
	}
	if m := got[0].Module; len(m) > maxArgText+len("…") || !strings.HasSuffix(m, "…") || got[0].Literal {
		t.Errorf("module %q: want at most %d bytes of the argument, cut with …", m, maxArgText)
	}
}

func TestCallText(t *testing.T) {
	c := Call{Line: 3, Column: 11, Module: "./lib", Literal: true}
	if got := c.Where("index.js") + " " + c.Asked(); got != `index.js:3:11 require("./lib")` {
		t.Errorf("got %s", got)
	}
	c = Call{Line: 1, Column: 1, Module: "name"}
	if got := c.Where("") + " " + c.Asked(); got != `line 1:1 require(name)` {
		t.Errorf("got %s", got)
	}
}

func FuzzRequires(f *testing.F) {
	for _, s := range []string{`require('x')`, `function f(require){require(1)}`, "`${require(`a`)}`", `require?.(a+b)`, `\u0072equire()`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		calls, err := Requires("f.js", src)
		if err != nil {
			return
		}
		lines := strings.Count(src, "\n") + strings.Count(src, "\r") + strings.Count(src, "\u2028") + strings.Count(src, "\u2029") + 1
		for _, c := range calls {
			if c.Line < 1 || c.Line > lines || c.Column < 1 {
				t.Errorf("call %+v outside the %d lines of %q", c, lines, src)
			}
		}
	})
}

// TestRequiresIgnoresSourceMaps: positions are the code's own, whatever a
// sourceMappingURL comment says (here, that line 1 comes from orig.js line
// 10); the parser follows no such comment, so it reads no file either.
func TestRequiresIgnoresSourceMaps(t *testing.T) {
	src := "require('x')\n//# sourceMappingURL=data:application/json;base64,eyJ2ZXJzaW9uIjozLCJzb3VyY2VzIjpbIm9yaWcuanMiXSwibmFtZXMiOltdLCJtYXBwaW5ncyI6IkFBU0EsQ0FBQyJ9"
	got, err := Requires("t.js", src)
	if err != nil || len(got) != 1 || got[0].Line != 1 || got[0].Column != 1 {
		t.Errorf("Requires = %+v, %v; want the call at 1:1", got, err)
	}
}
