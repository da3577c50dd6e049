//go:build linux

package harness

import "syscall"

// sysProcAttr ties a server's life to this process: if the test binary dies
// without stopping it (a panic, go test's -timeout, a signal), the kernel
// kills the server, so no stray process keeps a port or a database open.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
