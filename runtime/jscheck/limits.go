// Package jscheck holds what Stemcell knows statically about the code of
// its built-in JavaScript kind (JavaScript on goja): which calls of
// require a file makes, how a zipped action is laid out, and the words
// that explain the kind's limits. The server uses it to refuse at create
// code that cannot run; the runtime uses the same words when require is
// called anyway. It imports goja's parser and nothing of Stemcell's, so
// that the server can use it without the runtime's HTTP server.
package jscheck

// Limits says what the built-in JavaScript kind lacks: a sentence for
// errors at create and at run time, and for the README.
const Limits = "The built-in JavaScript kind runs one file of JavaScript on goja, without modules: " +
	"there is no require, no Node.js built-in module (fs, http, crypto, ...) " +
	"and no Node.js global such as Buffer, fetch or process beyond process.env"

// Advice says what to do about it.
const Advice = "Bundle the action and the modules it uses into one file that exports main " +
	"(exports.main = main, or export function main), for example with esbuild index.js --bundle --format=cjs --outfile=action.js; " +
	"or run it on Node.js with a nodejs kind of the openwhisk runtimes preset (runtimes-manifest.preset: openwhisk)"

// RequireMessage is the message of the Error a call of require throws at
// run time; module is the name asked for, as given.
func RequireMessage(module string) string {
	return "require(" + quote(module) + ") is not available. " + Limits + ". " + Advice + "."
}
