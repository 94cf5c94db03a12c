package runtime

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"sync"

	"github.com/dop251/goja"

	"github.com/stemcell-io/stemcell/runtime/jscheck"
)

// jsAction runs a JavaScript action. The code is compiled once; each
// interpreter (jsVM) runs it once at creation and then serves activations
// one at a time. Concurrent activations take different interpreters from
// the idle list, created on demand, so they share no JavaScript state.
type jsAction struct {
	program  *goja.Program
	mainName string
	env      map[string]string
	globals  map[string]any
	stdout   *lineWriter
	stderr   *lineWriter

	mu   sync.Mutex
	idle []*jsVM
}

// jsVM is one goja runtime with the action loaded and its main function.
type jsVM struct {
	rt        *goja.Runtime
	loop      *eventLoop
	main      goja.Callable
	parse     goja.Callable // JSON.parse
	stringify goja.Callable // JSON.stringify
	env       *goja.Object  // process.env
	owKeys    []string      // __OW_* keys the last activation set on env
	stderr    *lineWriter   // where a thrown error's stack is logged
}

var identifier = regexp.MustCompile(`^[A-Za-z_$][A-Za-z0-9_$]*$`)

// newJSAction compiles the code and loads it into a first interpreter, so
// that syntax errors, load-time exceptions and a missing main fail /init.
func newJSAction(ctx context.Context, code *actionCode, env map[string]string, globals map[string]any, stdout, stderr *lineWriter) (*jsAction, error) {
	prg, err := goja.Compile(code.name, code.source, false)
	if err != nil {
		return nil, actionError("/init: the action code of %q does not compile: %v", code.name, err)
	}
	a := &jsAction{program: prg, mainName: code.main, env: env, globals: globals, stdout: stdout, stderr: stderr}
	vm, err := a.newVM(ctx)
	if err != nil {
		return nil, err
	}
	a.idle = append(a.idle, vm)
	return a, nil
}

func (a *jsAction) close() error { return nil }

// run executes one activation on an idle interpreter and writes the
// sentinels after its output.
func (a *jsAction) run(ctx context.Context, act *activation) ([]byte, error) {
	defer writeSentinels(a.stdout, a.stderr)
	vm, err := a.get(ctx)
	if err != nil {
		return nil, err
	}
	result, reusable, err := vm.run(ctx, act)
	if reusable {
		a.put(vm)
	}
	return result, err
}

func (a *jsAction) get(ctx context.Context) (*jsVM, error) {
	a.mu.Lock()
	if n := len(a.idle); n > 0 {
		vm := a.idle[n-1]
		a.idle = a.idle[:n-1]
		a.mu.Unlock()
		return vm, nil
	}
	a.mu.Unlock()
	return a.newVM(ctx)
}

func (a *jsAction) put(vm *jsVM) {
	a.mu.Lock()
	a.idle = append(a.idle, vm)
	a.mu.Unlock()
}

// newVM builds an interpreter with the runtime's globals, runs the action's
// top-level code in it and finds the main function. Top-level code is
// interrupted when ctx ends (memory exhausted, or the caller gone).
func (a *jsAction) newVM(ctx context.Context) (*jsVM, error) {
	rt := goja.New()
	vm := &jsVM{rt: rt, loop: newEventLoop(rt), stderr: a.stderr}
	stop := context.AfterFunc(ctx, func() { rt.Interrupt(context.Cause(ctx)) })
	defer func() {
		// An interrupt raised after the code returned would abort the
		// interpreter's first activation.
		if !stop() {
			rt.ClearInterrupt()
		}
	}()
	if err := vm.installGlobals(a.env, a.globals, a.stdout, a.stderr); err != nil {
		return nil, withStatus(http.StatusInternalServerError, fmt.Errorf("/init: preparing the JavaScript runtime: %w", err))
	}
	if _, err := rt.RunProgram(a.program); err != nil {
		return nil, actionError("/init: the action code failed while loading: %s", describeJSError(err))
	}
	// Timers armed by top-level code would otherwise fire inside the first
	// activation; only activations drive the event loop.
	vm.loop.reset()
	main, err := vm.findMain(a.mainName)
	if err != nil {
		return nil, err
	}
	vm.main = main
	return vm, nil
}

// installGlobals defines console, process.env, setTimeout/clearTimeout,
// module/exports and a require that throws an Error saying what the
// built-in kind lacks and what to do: the server refuses code that calls
// require at create, but code stored before that, or that calls it out of
// the parser's sight (new Function, eval), still reaches it.
func (vm *jsVM) installGlobals(env map[string]string, globals map[string]any, stdout, stderr *lineWriter) error {
	rt := vm.rt
	console := rt.NewObject()
	out, errOut := vm.printer(stdout), vm.printer(stderr)
	envObj := rt.NewObject()
	var errs []error
	for _, name := range []string{"log", "info", "debug"} {
		errs = append(errs, console.Set(name, out))
	}
	for _, name := range []string{"error", "warn"} {
		errs = append(errs, console.Set(name, errOut))
	}
	for k, v := range env {
		errs = append(errs, envObj.Set(k, v))
	}
	process := rt.NewObject()
	errs = append(errs, process.Set("env", envObj))
	module := rt.NewObject()
	exports := rt.NewObject()
	errs = append(errs, module.Set("exports", exports))
	errs = append(errs,
		rt.Set("console", console),
		rt.Set("process", process),
		rt.Set("module", module),
		rt.Set("exports", exports),
		rt.Set("require", func(call goja.FunctionCall) goja.Value {
			msg := jscheck.RequireMessage(call.Argument(0).String())
			e, err := rt.New(rt.Get("Error"), rt.ToValue(msg))
			if err != nil {
				panic(rt.NewGoError(errors.New(msg)))
			}
			panic(e)
		}),
		vm.loop.install(),
	)
	for name, v := range globals {
		errs = append(errs, rt.Set(name, v))
	}
	json := rt.Get("JSON").ToObject(rt)
	var ok bool
	if vm.parse, ok = goja.AssertFunction(json.Get("parse")); !ok {
		errs = append(errs, errors.New("JSON.parse is not a function"))
	}
	if vm.stringify, ok = goja.AssertFunction(json.Get("stringify")); !ok {
		errs = append(errs, errors.New("JSON.stringify is not a function"))
	}
	vm.env = envObj
	return errors.Join(errs...)
}

// findMain looks for the entry point among the top-level bindings (function,
// var, let or const), then on module.exports (exports.main = ...).
func (vm *jsVM) findMain(name string) (goja.Callable, error) {
	if identifier.MatchString(name) {
		v, err := vm.rt.RunString("typeof " + name + " === 'function' ? " + name + " : undefined")
		if err == nil {
			if fn, ok := goja.AssertFunction(v); ok {
				return fn, nil
			}
		}
	}
	if exports := vm.rt.Get("module").ToObject(vm.rt).Get("exports"); exports != nil {
		if fn, ok := goja.AssertFunction(exports.ToObject(vm.rt).Get(name)); ok {
			return fn, nil
		}
		if fn, ok := goja.AssertFunction(exports); ok && name == "main" {
			return fn, nil
		}
	}
	return nil, actionError("/init: the action has no main function %q: define function %s(params) or set exports.%s", name, name, name)
}

// run executes one activation. reusable is false when the interpreter may
// be left in a state the next activation must not see (interrupted).
func (vm *jsVM) run(ctx context.Context, act *activation) (result []byte, reusable bool, err error) {
	vm.setActivationEnv(act.env)
	stop := context.AfterFunc(ctx, func() { vm.rt.Interrupt("the activation was cancelled") })
	defer func() {
		vm.loop.reset()
		// The interrupt may have been raised after the call returned; the
		// flag would then abort the next activation on this interpreter.
		if !stop() {
			reusable = false
		}
	}()
	params, err := vm.parse(goja.Undefined(), vm.rt.ToValue(string(act.value)))
	if err != nil {
		return nil, true, actionError("the params are not valid JSON: %s", describeJSError(err))
	}
	ret, err := vm.main(goja.Undefined(), params)
	if err != nil {
		return nil, !isInterrupt(err), vm.thrown(err)
	}
	if p, ok := ret.Export().(*goja.Promise); ok {
		if err := vm.loop.await(ctx, p); err != nil {
			if ctx.Err() != nil || isInterrupt(err) {
				return nil, false, actionError("the activation was cancelled while its Promise was pending: %v", context.Cause(ctx))
			}
			return nil, true, vm.thrown(err)
		}
		if p.State() == goja.PromiseStateRejected {
			res, err := vm.rejection(p.Result())
			return res, true, err
		}
		ret = p.Result()
	}
	if ret == nil || goja.IsUndefined(ret) {
		// Node's runtime answers a bare "return;" as an empty result.
		return []byte("{}"), true, nil
	}
	res, err := vm.toJSON(ret)
	return res, true, err
}

// thrown answers an exception that escaped the action (from main or a
// timer callback) as Node's runtime does: the stack goes to the logs and
// the developer error reads "An error has occurred: Error: boom".
func (vm *jsVM) thrown(err error) error {
	if isInterrupt(err) {
		return actionError("%s", describeJSError(err))
	}
	var ex *goja.Exception
	if errors.As(err, &ex) && ex.Value() != nil {
		vm.stderr.writeLine(vm.inspect(ex.Value()))
	} else {
		vm.stderr.writeLine(err.Error())
	}
	return actionError("An error has occurred: %s", describeJSError(err))
}

// setActivationEnv replaces the previous activation's __OW_* keys on
// process.env with this one's; the real process environment is untouched
// because concurrent activations each have their own.
func (vm *jsVM) setActivationEnv(env map[string]string) {
	for _, k := range vm.owKeys {
		vm.env.Delete(k)
	}
	vm.owKeys = vm.owKeys[:0]
	for k, v := range env {
		_ = vm.env.Set(k, v)
		vm.owKeys = append(vm.owKeys, k)
	}
}

// rejection turns a rejected Promise into an application error,
// {"error": reason}, as Node's runtime does: a falsy reason is {}, and an
// Error is serialised with its own properties plus name, message and stack
// (which JSON.stringify alone would drop).
func (vm *jsVM) rejection(reason goja.Value) ([]byte, error) {
	wrapped := vm.rt.NewObject()
	switch {
	case reason == nil || !reason.ToBoolean():
		reason = vm.rt.NewObject()
	case isErrorObject(reason):
		reason = vm.serializeError(reason.(*goja.Object))
	}
	_ = wrapped.Set("error", reason)
	return vm.toJSON(wrapped)
}

// serializeError copies an Error into a plain object JSON.stringify can
// render, keeping the stack in Node's layout.
func (vm *jsVM) serializeError(e *goja.Object) *goja.Object {
	out := vm.rt.NewObject()
	for _, k := range e.Keys() {
		_ = out.Set(k, e.Get(k))
	}
	for _, k := range []string{"name", "message", "stack"} {
		if v := e.Get(k); v != nil && goja.IsString(v) {
			text := v.String()
			if k == "stack" {
				text = nodeStack(text)
			}
			_ = out.Set(k, text)
		}
	}
	return out
}

// toJSON serialises a result, which must be an object or an array.
func (vm *jsVM) toJSON(v goja.Value) ([]byte, error) {
	obj, ok := v.(*goja.Object)
	if !ok {
		return nil, actionError(errNotDictionary)
	}
	if _, isFn := goja.AssertFunction(obj); isFn {
		return nil, actionError(errNotDictionary)
	}
	s, err := vm.stringify(goja.Undefined(), obj)
	if err != nil {
		return nil, actionError("the action's result cannot be converted to JSON: %s", describeJSError(err))
	}
	if !goja.IsString(s) {
		return nil, actionError(errNotDictionary)
	}
	out := []byte(s.String())
	if !isObjectOrArray(out) {
		return nil, actionError(errNotDictionary)
	}
	return out, nil
}

// printer returns a console method writing one line to w.
func (vm *jsVM) printer(w *lineWriter) func(goja.FunctionCall) goja.Value {
	return func(call goja.FunctionCall) goja.Value {
		w.writeLine(vm.formatArgs(call.Arguments))
		return goja.Undefined()
	}
}

// isErrorObject reports whether v is an Error (or a subclass) instance.
func isErrorObject(v goja.Value) bool {
	obj, ok := v.(*goja.Object)
	return ok && obj.ClassName() == "Error"
}

func isInterrupt(err error) bool {
	var ie *goja.InterruptedError
	return errors.As(err, &ie)
}

// describeJSError renders a goja error: the thrown value for an exception
// ("Error: boom", "TypeError: ..."), else the error text.
func describeJSError(err error) string {
	var ex *goja.Exception
	if errors.As(err, &ex) && ex.Value() != nil {
		return ex.Value().String()
	}
	return err.Error()
}
