package jscheck

import (
	"reflect"
	"sync"

	"github.com/dop251/goja/ast"
)

// astPkg is the package path of goja's syntax tree: the walker descends
// into values of its types only (not into file.File, token.Token, ...).
var astPkg = reflect.TypeFor[ast.Program]().PkgPath()

// walker visits every node of a goja syntax tree in source order, keeping
// the stack of scopes (the program, then each function, arrow function or
// method body) that enclose the node being visited. It reads the tree
// through reflection, so that a node type added to goja is descended into
// without a change here.
type walker struct {
	scopes []any // *ast.Program, *ast.FunctionLiteral or *ast.ArrowFunctionLiteral
	visit  func(node any, scopes []any)
}

func (w *walker) walk(prg *ast.Program) {
	w.value(reflect.ValueOf(prg))
}

func (w *walker) value(v reflect.Value) {
	switch v.Kind() {
	case reflect.Interface:
		if !v.IsNil() {
			w.value(v.Elem())
		}
	case reflect.Pointer:
		if v.IsNil() || v.Elem().Kind() != reflect.Struct || v.Elem().Type().PkgPath() != astPkg {
			return
		}
		w.node(v)
	case reflect.Slice:
		for i := range v.Len() {
			w.value(v.Index(i))
		}
	case reflect.Struct:
		// A node held by value (DotExpression.Identifier, an embedded
		// LexicalDeclaration): visit it through its address, as the
		// visitor switches on pointer types.
		if v.Type().PkgPath() == astPkg && v.CanAddr() {
			w.node(v.Addr())
		}
	}
}

// node visits p (a pointer to an AST struct) and then its fields, inside
// p's own scope when p opens one.
func (w *walker) node(p reflect.Value) {
	n := p.Interface()
	switch n.(type) {
	case *ast.Program, *ast.FunctionLiteral, *ast.ArrowFunctionLiteral:
		w.scopes = append(w.scopes, n)
		defer func() { w.scopes = w.scopes[:len(w.scopes)-1] }()
	}
	w.visit(n, w.scopes)
	s := p.Elem()
	for _, i := range childFields(s.Type()) {
		w.value(s.Field(i))
	}
}

// childFieldsCache maps an AST struct type to childFields' answer: looking
// fields up by reflection on every node doubled the time of a walk.
var childFieldsCache sync.Map // reflect.Type -> []int

// childFields lists the fields of an AST struct type that may hold nodes.
func childFields(t reflect.Type) []int {
	if v, ok := childFieldsCache.Load(t); ok {
		return v.([]int)
	}
	var idx []int
	for i := range t.NumField() {
		f := t.Field(i)
		// DeclarationList repeats the var bindings that the statements
		// already hold: walking it too would report their calls twice.
		if !f.IsExported() || f.Name == "DeclarationList" {
			continue
		}
		switch f.Type.Kind() {
		case reflect.Interface, reflect.Pointer, reflect.Slice, reflect.Struct:
			idx = append(idx, i)
		}
	}
	childFieldsCache.Store(t, idx)
	return idx
}
