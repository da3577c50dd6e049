//go:build linux

package mysqltest

import "syscall"

// sysProcAttr ties mariadbd's life to this process: if it dies without
// calling Stop (a panicking test, go test's -timeout, a signal), the kernel
// sends mariadbd SIGTERM and it shuts down cleanly. Only the temporary
// directory is left behind then.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
