//go:build !linux

package webtest

import "os/exec"

// endWithParent: only Linux can tie a child's life to its parent's.
func endWithParent(*exec.Cmd) {}
