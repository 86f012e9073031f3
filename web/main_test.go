package web_test

import (
	"os"
	"testing"

	"github.com/terroir-coop/terroir/web/webtest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	webtest.StopStripeMock()
	os.Exit(code)
}
