package webtest

import (
	"os/exec"
	"syscall"
)

// endWithParent has the kernel kill the mock when the test process dies
// without running StopStripeMock (a fuzz worker is killed, a test times out).
func endWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
