package webtest

import (
	"bytes"
	"context"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/terroir-coop/terroir/web/api"
)

// contractHost stands for the test server in the document's servers, so
// one router serves every test server.
const contractHost = "http://terroir.test"

var contract struct {
	once   sync.Once
	router routers.Router
	err    error
}

// contractRouter is the router of the served OpenAPI document, built once.
func contractRouter() (routers.Router, error) {
	contract.once.Do(func() {
		doc, err := openapi3.NewLoader().LoadFromData(api.OpenAPIDocument())
		if err != nil {
			contract.err = fmt.Errorf("openapi.json: %w", err)
			return
		}
		doc.Servers = openapi3.Servers{{URL: contractHost + "/api/v1"}}
		// Binary answers are checked for their declared media type only,
		// and so are CSV files: a statement's CSV holds two tables of
		// different widths, which kin-openapi's CSV decoder refuses.
		for _, t := range []string{"image/png", "image/jpeg", "application/pdf", "application/zip", "application/gzip"} {
			openapi3filter.RegisterBodyDecoder(t, openapi3filter.FileBodyDecoder)
		}
		openapi3filter.RegisterBodyDecoder("text/csv", openapi3filter.PlainBodyDecoder)
		contract.router, contract.err = legacy.NewRouter(doc)
	})
	return contract.router, contract.err
}

// CheckAnswer validates an answer of the JSON API against the served
// OpenAPI document: its status must be declared for the operation, its
// media type too, and its body must match the schema. It returns nil for
// a path outside /api/v1 or one the document does not know (an unknown
// path is answered 404 by the router, and TestOpenAPICoversEveryRoute
// checks that every route is in the document).
func CheckAnswer(method, path string, status int, header http.Header, body []byte) error {
	u, err := url.Parse(path)
	if err != nil || !strings.HasPrefix(u.Path, "/api/v1/") {
		return nil
	}
	router, err := contractRouter()
	if err != nil {
		return err
	}
	req, err := http.NewRequest(method, contractHost+u.RequestURI(), nil)
	if err != nil {
		return nil
	}
	route, params, err := router.FindRoute(req)
	if err != nil {
		return nil // not an operation of the document
	}
	if method == http.MethodHead {
		return nil
	}
	// Every query parameter a test sends must be one the operation
	// declares: a parameter a handler reads but the document omits shows
	// up as soon as a test uses it.
	for name := range u.Query() {
		if route.Operation.Parameters.GetByInAndName(openapi3.ParameterInQuery, name) == nil &&
			route.PathItem.Parameters.GetByInAndName(openapi3.ParameterInQuery, name) == nil {
			return fmt.Errorf("query parameter %q is not declared for %s %s", name, method, route.Path)
		}
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 status,
		Header:                 header,
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	in.SetBodyBytes(body)
	return openapi3filter.ValidateResponse(context.Background(), in)
}

// CheckAccepted validates a request the API accepted (answered 2xx)
// against the document: its JSON body must match the operation's request
// schema and its query and header parameters their schemas, so a request
// schema that refuses what the server takes (or a required field the
// server does without) fails. Bodies of other media types (files,
// multipart forms) are not checked.
func CheckAccepted(method, path string, header http.Header, body []byte) error {
	u, err := url.Parse(path)
	if err != nil || !strings.HasPrefix(u.Path, "/api/v1/") {
		return nil
	}
	router, err := contractRouter()
	if err != nil {
		return err
	}
	req, err := http.NewRequest(method, contractHost+u.RequestURI(), bytes.NewReader(body))
	if err != nil {
		return nil
	}
	req.Header = header.Clone()
	route, params, err := router.FindRoute(req)
	if err != nil {
		return nil
	}
	opts := &openapi3filter.Options{MultiError: true, AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}
	if mt, _, _ := mime.ParseMediaType(header.Get("Content-Type")); len(body) > 0 && mt != "application/json" {
		opts.ExcludeRequestBody = true
	}
	return openapi3filter.ValidateRequest(context.Background(),
		&openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts})
}

// checkContract fails the test (Errorf) when an answer contradicts the
// document, or a request the API accepted does.
func (e *Env) checkContract(req *http.Request, reqBody []byte, resp *http.Response, body []byte) {
	e.T.Helper()
	method, path := req.Method, req.URL.RequestURI()
	if resp.Header.Get("Content-Encoding") != "" {
		return // the test asked for a compressed answer and reads it as such
	}
	if err := CheckAnswer(method, path, resp.StatusCode, resp.Header, body); err != nil {
		e.T.Errorf("%s %s → %d contradicts openapi.json: %v\nbody: %.600s", method, path, resp.StatusCode, err, body)
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if err := CheckAccepted(method, path, req.Header, reqBody); err != nil {
			e.T.Errorf("%s %s was accepted (%d) but its request contradicts openapi.json: %v\nrequest body: %.600s", method, path, resp.StatusCode, err, reqBody)
		}
	}
}
