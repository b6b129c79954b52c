package main

import (
	"os/exec"
	"syscall"
)

// dieWithParent makes the child closebot die with the test process (a
// test killed by its timeout leaves no closebot behind).
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
