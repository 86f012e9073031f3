// Package browsertest starts the headless Chromium that the browser tests
// drive (Debian's chromium package, or $CHROMIUM), with a fresh profile and
// a phone's viewport, in French as a Moroccan phone asks for it.
//
// Without Chromium a test is skipped, so `go test ./...` works on a bare
// machine; with CI=true a missing browser fails the test instead, so CI
// never passes by skipping what it was meant to check.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Path is the browser the tests drive: $CHROMIUM, else Debian's chromium.
func Path() string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	return "/usr/bin/chromium"
}

// New starts Chromium with a viewport of width × height CSS pixels,
// emulating a phone, and returns a context for chromedp.Run that ends (and
// stops the browser) after timeout or when the test ends.
func New(t testing.TB, width, height int64, timeout time.Duration) context.Context {
	t.Helper()
	path := Path()
	if _, err := exec.LookPath(path); err != nil {
		msg := "browser test needs Chromium at " + path + " (apt-get install -y chromium, or set $CHROMIUM): " + err.Error()
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	// chromedp's defaults (headless, no first run, no background
	// networking, no sync, …) plus what a container and a test need.
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox, // CI runs as root, where Chromium's sandbox refuses to start
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(filepath.Join(t.TempDir(), "profile")),
		chromedp.WindowSize(int(width), int(height)),
		// A Moroccan phone set to French, the network's working language;
		// without it headless Chromium asks for en-US and gets English pages.
		chromedp.Flag("lang", "fr-MA"),
		chromedp.Flag("accept-lang", "fr-MA,fr,ar"),
	)
	ctx, cancelTimeout := context.WithTimeout(context.Background(), timeout)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx, chromedp.WithErrorf(t.Logf))
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
		cancelTimeout()
	})
	// Start the browser now, so a browser that cannot start fails here with
	// a clear message rather than inside the first action. Headless Chromium
	// clamps the window to at least 500 px wide, so the phone's viewport is
	// emulated as well: without it a "phone" test looks at a 500 px page.
	if err := chromedp.Do(browserCtx, chromedp.EmulateViewport(width, height,
		chromedp.EmulatePortrait, chromedp.EmulateMobile, chromedp.EmulateTouch)); err != nil {
		t.Fatalf("start Chromium %s: %v", path, err)
	}
	return browserCtx
}

// Screenshot saves a full-page PNG of what the browser shows into dir and,
// when $TERROIR_SCREENSHOTS names a directory, there too, so a person can
// look at the pages a test went through.
func Screenshot(t testing.TB, ctx context.Context, dir, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // 100 → PNG
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	dirs := []string{dir}
	if d := os.Getenv("TERROIR_SCREENSHOTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, d)
	}
	for _, d := range dirs {
		p := filepath.Join(d, name+".png")
		if err := os.WriteFile(p, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s", p)
	}
}
