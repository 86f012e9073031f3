package webtest

import (
	"net/http"
	"testing"
	"time"
)

// TestStopStripeMockEndsTheServer: after StopStripeMock nothing answers on
// the mock's port. A mock left running outlives the test binary and, in a
// fuzz worker, holds the coordinator's pipes open so `go test -fuzz` never
// ends.
func TestStopStripeMockEndsTheServer(t *testing.T) {
	base := StripeMock(t)
	StopStripeMock()
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, err := client.Get(base + "/v1/charges")
		if err != nil {
			return
		}
		resp.Body.Close()
		if time.Now().After(deadline) {
			t.Fatalf("stripe-mock still answers on %s after StopStripeMock", base)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
