//go:build !linux

package harness

import "syscall"

// sysProcAttr has no parent-death signal to ask for outside Linux; a server
// whose test binary crashes keeps running there until stopped by hand.
func sysProcAttr() *syscall.SysProcAttr {
	return nil
}
