//go:build unix

package actionclient

import (
	"errors"
	"net"
	"syscall"
)

// connAlive reports whether conn is still open at the other end and has
// nothing unread: a runtime that timed out an idle connection has closed
// it (a peek reads end of file), and one that sent anything unasked is
// not to be trusted with a request. The peek does not block.
func connAlive(conn net.Conn) bool {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return true
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	alive := false
	var buf [1]byte
	err = raw.Read(func(fd uintptr) bool {
		n, _, rerr := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		alive = n < 0 && (errors.Is(rerr, syscall.EAGAIN) || errors.Is(rerr, syscall.EWOULDBLOCK))
		return true // never wait for readiness: this is a check, not a read
	})
	return err == nil && alive
}
