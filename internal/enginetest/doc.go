// Package enginetest is the shared set-up of the tests that run on the real
// Docker Engine: one negotiated client, the static invoker binary and the
// runtime image built once per test process, names no other process
// picks, and the removal of what it built when the process ends.
//
// Only _test.go files import it. It must not import factory/docker:
// that package's own (internal) tests use it, and Go forbids the cycle; the
// runtime image is therefore built through the Builder the caller passes.
//
// A package that uses it runs its tests through Main (or Wrap, under
// goleak.VerifyTestMain), which removes the images and closes the client
// after the last test; Require and RuntimeImage fail a test that would
// otherwise leave them behind.
package enginetest
