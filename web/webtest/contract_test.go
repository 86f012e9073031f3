package webtest

import (
	"encoding/json"
	"net/http"
	"testing"
)

// TestCheckAnswerCatchesWhatTheDocumentDoesNotSay takes a real answer of
// the API and doctors it: the validator that Do applies to every answer
// must refuse a field added or renamed without the document, a wrong type,
// an undeclared status and an undeclared media type, and accept the answer
// as it was.
func TestCheckAnswerCatchesWhatTheDocumentDoesNotSay(t *testing.T) {
	e := New(t)
	e.Cooperative("SIROUA", "saffron")
	path := "/api/v1/cooperatives/SIROUA"
	resp, body := e.Do("GET", path, e.AdminToken, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
	}
	if err := CheckAnswer("GET", path, resp.StatusCode, resp.Header, body); err != nil {
		t.Fatalf("the real answer is refused: %v", err)
	}
	doctor := func(change func(map[string]any)) []byte {
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatal(err)
		}
		change(m)
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for name, tc := range map[string]struct {
		status int
		header http.Header
		body   []byte
	}{
		"a field added": {200, resp.Header, doctor(func(m map[string]any) { m["nickname"] = "x" })},
		"a field renamed": {200, resp.Header, doctor(func(m map[string]any) {
			m["cooperative_code"] = m["code"]
			delete(m, "code")
		})},
		"a wrong type":              {200, resp.Header, doctor(func(m map[string]any) { m["name"] = 7 })},
		"an undeclared status":      {http.StatusTeapot, resp.Header, body},
		"an undeclared media type":  {200, http.Header{"Content-Type": {"text/html; charset=utf-8"}}, body},
		"an error of another shape": {404, resp.Header, []byte(`{"message":"not found"}`)},
	} {
		if err := CheckAnswer("GET", path, tc.status, tc.header, tc.body); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// A query parameter the operation does not declare is refused too.
	if err := CheckAnswer("GET", path+"?nonsense=1", resp.StatusCode, resp.Header, body); err == nil {
		t.Error("an undeclared query parameter: accepted")
	}
	// Outside the API nothing is checked.
	if err := CheckAnswer("GET", "/shop/EU-PLATFORM", http.StatusTeapot, nil, nil); err != nil {
		t.Errorf("a page was checked: %v", err)
	}
}

// BenchmarkCheckAnswer measures what validating one answer adds to a test's
// request: a cooperative (small) and the full list of the plausibility
// ranges (a large answer).
func BenchmarkCheckAnswer(b *testing.B) {
	e := New(b)
	e.Cooperative("SIROUA", "saffron")
	for _, path := range []string{"/api/v1/cooperatives/SIROUA", "/api/v1/plausibility"} {
		resp, body := e.Do("GET", path, e.AdminToken, nil)
		b.Run(path, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if err := CheckAnswer("GET", path, resp.StatusCode, resp.Header, body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestCheckAcceptedCatchesARequestTheDocumentRefuses: a body the server
// accepted passes; the same body with an undeclared field, a wrong type or
// without a required field does not.
func TestCheckAcceptedCatchesARequestTheDocumentRefuses(t *testing.T) {
	h := http.Header{"Content-Type": {"application/json"}}
	path := "/api/v1/cooperatives/SIROUA/packings"
	for body, ok := range map[string]bool{
		`{"lot":"SAF-X","sku":"SAF-1G","units":10,"best_before":"2029-06-30","serials":true}`: true,
		`{"lot":"SAF-X","sku":"SAF-1G","units":10,"colour":"red"}`:                            false,
		`{"lot":"SAF-X","sku":"SAF-1G","units":"ten"}`:                                        false,
		`{"lot":"SAF-X","units":10}`:                                                          false,
	} {
		err := CheckAccepted("POST", path, h, []byte(body))
		if (err == nil) != ok {
			t.Errorf("%s: %v", body, err)
		}
	}
	if err := CheckAccepted("GET", "/api/v1/catalog?channel=EU-PLATFORM&limit=ten", http.Header{}, nil); err == nil {
		t.Error("a limit that is not an integer: accepted")
	}
}
