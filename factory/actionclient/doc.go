// Package actionclient is the invoker's side of the HTTP protocol to an action
// runtime: it posts /init and /run to one container and turns what comes
// back (or does not) into a factory.Outcome with OpenWhisk's statuses and
// messages. One Client serves one container.
package actionclient
