package web_test

import (
	"context"
	"testing"
	"time"

	"github.com/terroir-coop/terroir/internal/browsertest"
)

// browserTimeout bounds one browser test, start of Chromium included, so a
// hung browser fails the test instead of the whole run.
const browserTimeout = 60 * time.Second

// phoneWidth and phoneHeight are the CSS viewport of a common phone.
const phoneWidth, phoneHeight = 390, 844

// newChrome starts a headless Chromium with a phone-sized window (390×844)
// and a fresh profile (internal/browsertest), and returns a context for
// chromedp.Run that is cancelled, and the browser stopped, when the test
// ends.
func newChrome(t *testing.T) context.Context {
	t.Helper()
	return browsertest.New(t, phoneWidth, phoneHeight, browserTimeout)
}

// screenshot saves a full-page PNG of what the browser shows into the test's
// temporary directory and, when $TERROIR_SCREENSHOTS names a directory, there
// too, so a person can look at the pages a test went through.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	browsertest.Screenshot(t, ctx, t.TempDir(), name)
}
