package api

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// redocly lints an OpenAPI document with Redocly CLI's recommended rules
// (web/testdata/redocly, installed by `npm ci` there, as .ci/run does), an
// implementation nobody on the project wrote. Without Node.js or the
// package the test is skipped, and fails under CI=true.
func redocly(t *testing.T, doc []byte) (errors int, problems []string) {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "testdata", "redocly"))
	if err != nil {
		t.Fatal(err)
	}
	cli := filepath.Join(dir, "node_modules", "@redocly", "cli", "bin", "cli.js")
	node, err := exec.LookPath("node")
	if _, statErr := os.Stat(cli); err != nil || statErr != nil {
		msg := "the OpenAPI lint needs Node.js and @redocly/cli: run `npm ci` in web/testdata/redocly"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	f := filepath.Join(t.TempDir(), "openapi.json")
	if err := os.WriteFile(f, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, cli, "lint", f, "--format=json", "--max-problems=1000")
	cmd.Dir = dir
	// No telemetry and no update check: the lint reads nothing from the
	// network.
	cmd.Env = append(os.Environ(), "REDOCLY_TELEMETRY=off", "REDOCLY_SUPPRESS_UPDATE_NOTICE=true", "NO_COLOR=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	_ = cmd.Run() // exits 1 when there are errors; the report says which
	var report struct {
		Totals struct {
			Errors   int `json:"errors"`
			Warnings int `json:"warnings"`
		} `json:"totals"`
		Problems []struct {
			RuleID   string `json:"ruleId"`
			Severity string `json:"severity"`
			Message  string `json:"message"`
			Location []struct {
				Pointer string `json:"pointer"`
			} `json:"location"`
		} `json:"problems"`
	}
	out := stdout.Bytes()
	if i := bytes.IndexByte(out, '{'); i >= 0 {
		out = out[i:]
	}
	if err := json.Unmarshal(out, &report); err != nil {
		t.Fatalf("redocly: %v\nstdout: %.2000s\nstderr: %.2000s", err, stdout.Bytes(), stderr.Bytes())
	}
	for _, p := range report.Problems {
		where := ""
		if len(p.Location) > 0 {
			where = p.Location[0].Pointer
		}
		problems = append(problems, p.Severity+" "+p.RuleID+" "+where+": "+p.Message)
	}
	return report.Totals.Errors, problems
}

// TestOpenAPILintIsClean lints the served document: no errors (its
// warnings are logged: the document names no licence, as the project has
// none to name).
func TestOpenAPILintIsClean(t *testing.T) {
	errs, problems := redocly(t, openAPIDoc)
	for _, p := range problems {
		t.Log(p)
	}
	if errs > 0 {
		t.Errorf("Redocly finds %d errors in openapi.json", errs)
	}
}

// TestOpenAPILintCatchesAMissingPathParameter proves the lint is not
// vacuous: the document without one path's parameters has errors.
func TestOpenAPILintCatchesAMissingPathParameter(t *testing.T) {
	var doc map[string]any
	if err := json.Unmarshal(openAPIDoc, &doc); err != nil {
		t.Fatal(err)
	}
	item := doc["paths"].(map[string]any)["/lots/{code}"].(map[string]any)
	delete(item, "parameters")
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	errs, problems := redocly(t, b)
	if errs == 0 || !strings.Contains(strings.Join(problems, "\n"), "path-parameters-defined") {
		t.Errorf("a path without its parameter passed the lint: %d errors %v", errs, problems)
	}
}
