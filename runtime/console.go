package runtime

import (
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/dop251/goja"
)

// Node's util.inspect defaults that console output depends on.
const (
	inspectDepth       = 2   // nested objects deeper than this print as [Object]
	inspectBreakLength = 80  // a longer single-line rendering is split over lines
	inspectCompact     = 3   // the innermost levels that may share one line
	inspectMaxItems    = 100 // array entries shown before "... n more items"
)

var plainKey = regexp.MustCompile(`^[A-Za-z_][A-Za-z_0-9]*$`)

// formatArgs renders console arguments as Node's util.format does: a
// leading string is a format string (%s %d %i %f %j %o %O %c %%), the
// arguments it does not consume follow, strings raw and the rest inspected.
func (vm *jsVM) formatArgs(args []goja.Value) string {
	var b strings.Builder
	rest := args
	if len(args) > 0 && goja.IsString(args[0]) {
		format := args[0].String()
		rest = args[1:]
		if len(rest) == 0 {
			return format
		}
		for i := 0; i < len(format); i++ {
			c := format[i]
			if c != '%' || i+1 == len(format) {
				b.WriteByte(c)
				continue
			}
			verb := format[i+1]
			if verb == '%' {
				b.WriteByte('%')
				i++
				continue
			}
			if !strings.ContainsRune("sdifjoOc", rune(verb)) || len(rest) == 0 {
				b.WriteByte(c)
				continue
			}
			b.WriteString(vm.formatVerb(verb, rest[0]))
			rest = rest[1:]
			i++
		}
		if len(rest) > 0 {
			b.WriteByte(' ')
		}
	}
	for i, arg := range rest {
		if i > 0 {
			b.WriteByte(' ')
		}
		if goja.IsString(arg) {
			b.WriteString(arg.String())
		} else {
			b.WriteString(vm.inspect(arg))
		}
	}
	return b.String()
}

// formatVerb renders one argument for a format specifier.
func (vm *jsVM) formatVerb(verb byte, v goja.Value) string {
	_, isObj := v.(*goja.Object)
	switch verb {
	case 's':
		if isObj {
			return vm.inspect(v)
		}
		return vm.primitive(v, false)
	case 'd':
		if isObj {
			return "NaN"
		}
		return vm.formatNumber(v.ToFloat())
	case 'i':
		if isObj {
			return "NaN"
		}
		f := v.ToFloat()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return "NaN"
		}
		return vm.formatNumber(math.Trunc(f))
	case 'f':
		if isObj {
			return "NaN"
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(v.String()), 64)
		if err != nil {
			return "NaN"
		}
		return vm.formatNumber(f)
	case 'j':
		s, err := vm.stringify(goja.Undefined(), v)
		if err != nil {
			return "[Circular]"
		}
		if s == nil || goja.IsUndefined(s) {
			return "undefined"
		}
		return s.String()
	case 'c':
		return "" // CSS has no meaning in a log line
	default: // o, O
		return vm.inspect(v)
	}
}

// formatNumber renders a number as JavaScript does, keeping the sign of -0.
func (vm *jsVM) formatNumber(f float64) string {
	if f == 0 && math.Signbit(f) {
		return "-0"
	}
	return vm.rt.ToValue(f).String()
}

// inspect renders a value as Node's util.inspect does with its defaults,
// for the common kinds of values.
func (vm *jsVM) inspect(v goja.Value) string {
	in := &inspector{vm: vm}
	out := in.value(v, 0, 0)
	if in.circularRoot {
		return "<ref *1> " + out
	}
	return out
}

type inspector struct {
	vm           *jsVM
	seen         []*goja.Object
	maxLevel     int // deepest object level entered so far
	circularRoot bool
}

func (in *inspector) value(v goja.Value, level, indent int) string {
	obj, ok := v.(*goja.Object)
	if !ok {
		return in.vm.primitive(v, level > 0)
	}
	if _, isFn := goja.AssertFunction(obj); isFn {
		if name := obj.Get("name"); name != nil && name.String() != "" {
			return "[Function: " + name.String() + "]"
		}
		return "[Function (anonymous)]"
	}
	switch obj.ClassName() {
	case "Error":
		if stack := obj.Get("stack"); stack != nil && goja.IsString(stack) {
			return indentLines(nodeStack(stack.String()), indent)
		}
		return obj.String()
	case "Date", "RegExp":
		if obj.ClassName() == "Date" {
			if iso, ok := goja.AssertFunction(obj.Get("toISOString")); ok {
				if s, err := iso(obj); err == nil {
					return s.String()
				}
			}
		}
		return obj.String()
	}
	for i, s := range in.seen {
		if s == obj {
			if i == 0 {
				in.circularRoot = true
			}
			return "[Circular *1]"
		}
	}
	isArray := obj.ClassName() == "Array"
	if level > inspectDepth {
		if isArray {
			return "[Array]"
		}
		return "[Object]"
	}
	in.seen = append(in.seen, obj)
	defer func() { in.seen = in.seen[:len(in.seen)-1] }()
	in.maxLevel = level
	var entries []string
	braces := [2]string{"{", "}"}
	prefix := ""
	if isArray {
		braces = [2]string{"[", "]"}
		n := int(obj.Get("length").ToInteger())
		shown := min(n, inspectMaxItems)
		numeric := true
		for i := range shown {
			item := obj.Get(strconv.Itoa(i))
			numeric = numeric && item != nil && goja.IsNumber(item)
			entries = append(entries, in.value(item, level+1, indent+2))
		}
		if n > shown {
			entries = append(entries, "... "+strconv.Itoa(n-shown)+" more items")
		}
		if len(entries) > 6 {
			grouped := groupArrayEntries(entries, indent, numeric, n > shown)
			if len(grouped) != len(entries) {
				return in.lines(grouped, braces, indent)
			}
		}
	} else {
		prefix = constructorPrefix(obj)
		for _, k := range obj.Keys() {
			key := k
			if !plainKey.MatchString(k) {
				key = quoteJS(k)
			}
			entries = append(entries, key+": "+in.value(obj.Get(k), level+1, indent+2))
		}
	}
	if len(entries) == 0 {
		return prefix + braces[0] + braces[1]
	}
	return prefix + in.join(entries, braces, level, indent, len(prefix))
}

// join puts entries on one line when they are short and not too deeply
// nested, else one per line, as Node's reduceToSingleString does.
func (in *inspector) join(entries []string, braces [2]string, level, indent, prefixLen int) string {
	if in.maxLevel-level < inspectCompact {
		total := len(entries) + indent + len(braces[0]) + prefixLen + 10 + len(entries)
		fits := total+len(entries) <= inspectBreakLength
		for _, e := range entries {
			total += len(e)
			if total > inspectBreakLength {
				fits = false
			}
		}
		joined := strings.Join(entries, ", ")
		if fits && !strings.Contains(joined, "\n") {
			return braces[0] + " " + joined + " " + braces[1]
		}
	}
	return in.lines(entries, braces, indent)
}

// lines puts each entry on a line of its own, indented under the brace.
func (in *inspector) lines(entries []string, braces [2]string, indent int) string {
	sep := "\n" + strings.Repeat(" ", indent)
	return braces[0] + sep + "  " + strings.Join(entries, ","+sep+"  ") + sep + braces[1]
}

// constructorPrefix names an object's class when it is not a plain Object.
func constructorPrefix(obj *goja.Object) string {
	proto := obj.Prototype()
	if proto == nil {
		return "[Object: null prototype] "
	}
	ctor, ok := proto.Get("constructor").(*goja.Object)
	if !ok {
		return ""
	}
	name := ctor.Get("name")
	if name == nil || name.String() == "" || name.String() == "Object" {
		return ""
	}
	return name.String() + " "
}

// primitive renders a non-object; nested strings are quoted as Node does.
func (vm *jsVM) primitive(v goja.Value, quoteStrings bool) string {
	switch {
	case v == nil || goja.IsUndefined(v):
		return "undefined"
	case goja.IsNull(v):
		return "null"
	case goja.IsString(v):
		if quoteStrings {
			return quoteJS(v.String())
		}
		return v.String()
	case goja.IsNumber(v):
		return vm.formatNumber(v.ToFloat())
	}
	if _, isBig := v.Export().(interface{ Int64() int64 }); isBig {
		return v.String() + "n"
	}
	return v.String()
}

// quoteJS quotes s with single quotes, or double quotes or backticks when
// that avoids escaping, and escapes control characters.
func quoteJS(s string) string {
	q := byte('\'')
	if strings.IndexByte(s, '\'') >= 0 {
		if strings.IndexByte(s, '"') < 0 {
			q = '"'
		} else if strings.IndexByte(s, '`') < 0 && !strings.Contains(s, "${") {
			q = '`'
		}
	}
	var b strings.Builder
	b.WriteByte(q)
	for _, r := range s {
		switch {
		case r == rune(q) || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f:
			b.WriteString(`\x` + strconv.FormatInt(int64(r)|0x100, 16)[1:])
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte(q)
	return b.String()
}

// nodeStack lays out a goja stack as Node does: frames indented by four
// spaces, no trailing newline, and without the runtime's own Go frames,
// which mean nothing to the action's developer.
func nodeStack(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	kept := lines[:0]
	for _, l := range lines {
		if strings.HasPrefix(l, "\tat ") {
			if strings.HasSuffix(l, " (native)") {
				continue
			}
			l = "    at " + l[len("\tat "):]
		}
		kept = append(kept, l)
	}
	return strings.Join(kept, "\n")
}

// indentLines indents every line after the first, for a nested stack.
func indentLines(s string, indent int) string {
	if indent == 0 {
		return s
	}
	return strings.ReplaceAll(s, "\n", "\n"+strings.Repeat(" ", indent))
}
