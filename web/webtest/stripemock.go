package webtest

import (
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// WebhookSecret signs the test webhooks (STRIPE_WEBHOOK_SECRET of the test server).
const WebhookSecret = "whsec_terroir_test_secret"

var stripeMock struct {
	once sync.Once
	base string
	cmd  *exec.Cmd
	err  error
}

// StripeMock starts stripe-mock (the go.mod tool) once per test binary on a
// free loopback port and returns its base URL. StopStripeMock ends it.
func StripeMock(t testing.TB) string {
	t.Helper()
	stripeMock.once.Do(func() {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			stripeMock.err = err
			return
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		// Run the tool's binary itself, not `go tool stripe-mock`: killing
		// the go command would leave its child serving (and holding the
		// test process's inherited pipes open) after the test ends.
		bin, err := exec.Command("go", "tool", "-n", "stripe-mock").Output()
		if err != nil {
			stripeMock.err = fmt.Errorf("build stripe-mock (go tool -n stripe-mock): %w", err)
			return
		}
		cmd := exec.Command(strings.TrimSpace(string(bin)), "-http-port", fmt.Sprint(port))
		endWithParent(cmd)
		if err := cmd.Start(); err != nil {
			stripeMock.err = fmt.Errorf("start stripe-mock (go tool stripe-mock): %w", err)
			return
		}
		stripeMock.cmd = cmd
		stripeMock.base = fmt.Sprintf("http://127.0.0.1:%d", port)
		// The first run compiles the tool; wait until it answers.
		deadline := time.Now().Add(3 * time.Minute)
		for time.Now().Before(deadline) {
			resp, err := http.Get(stripeMock.base + "/v1/charges")
			if err == nil {
				resp.Body.Close()
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		stripeMock.err = fmt.Errorf("stripe-mock did not answer on %s", stripeMock.base)
	})
	if stripeMock.err != nil {
		t.Fatal(stripeMock.err)
	}
	return stripeMock.base
}

// StopStripeMock ends stripe-mock if it was started.
func StopStripeMock() {
	if stripeMock.cmd != nil && stripeMock.cmd.Process != nil {
		_ = stripeMock.cmd.Process.Kill()
		_, _ = stripeMock.cmd.Process.Wait()
	}
}
