package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// serverUsage is what Linux says of the server process.
type serverUsage struct {
	CPU time.Duration // user + system time
	RSS int64         // resident set, bytes
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat times: 100 on every
// Linux architecture Go runs on.
const clockTicks = 100

// readUsage reads the CPU time and resident memory of a process from /proc.
func readUsage(pid int) (serverUsage, error) {
	var u serverUsage
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return u, fmt.Errorf("--pid %d: %w", pid, err)
	}
	// The command name, in parentheses, may hold spaces: fields count
	// from the last ')'.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 22 {
		return u, fmt.Errorf("--pid %d: unexpected /proc stat line", pid)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64) // field 14 of proc(5)
	stime, err2 := strconv.ParseInt(f[12], 10, 64) // field 15
	rss, err3 := strconv.ParseInt(f[21], 10, 64)   // field 24, in pages
	if err1 != nil || err2 != nil || err3 != nil {
		return u, fmt.Errorf("--pid %d: unexpected /proc stat line", pid)
	}
	u.CPU = time.Duration(utime+stime) * time.Second / clockTicks
	u.RSS = rss * int64(os.Getpagesize())
	return u, nil
}
