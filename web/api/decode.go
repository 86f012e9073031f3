package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/internal/problem"
)

// decodeJSON reads the request body strictly into v (whatever the
// Content-Type says: curl -d sends a form type, and the body decides): unknown fields, wrong
// types, malformed or trailing data and oversized bodies become errors that
// name the field. Nothing of a rejected body is used.
func decodeJSON(c *gin.Context, v any) error {
	body, err := io.ReadAll(c.Request.Body)
	if err != nil {
		return jsonError(err)
	}
	// encoding/json replaces invalid UTF-8 with U+FFFD without a word, so a
	// mangled name would be stored; refuse it, naming the field, instead.
	if !utf8.Valid(body) {
		return problem.Field(fieldAtInvalidUTF8(body), "is not valid UTF-8")
	}
	limit := MaxJSONValues
	if c.FullPath() == ParcelRoute {
		limit = MaxOutlineValues
	}
	if err := preScan(body, limit); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return err
		}
		return problem.New(problem.Invalid, "request body must hold a single JSON object")
	}
	return nil
}

// MaxJSONDepth and MaxJSONValues bound what a request body may hold: no
// request of the API nests deeper than a few levels or holds more than a
// few thousand values, and a body of many tiny values costs far more memory
// decoded than its size (issue 14: 1 MB of small objects took 24 MB).
// A parcel's walked outline is the one body of many values: thousands of
// GPS points, two numbers each (MaxOutlineValues, on ParcelRoute, whose
// body limit is the general one).
const (
	MaxJSONDepth     = 32
	MaxJSONValues    = 10_000
	MaxOutlineValues = 200_000
)

// ParcelRoute is where parcels are registered, with their outlines.
const ParcelRoute = "/api/v1/cooperatives/:coop/parcels"

// preScan walks body's tokens, without building anything, and refuses it
// once it nests deeper than MaxJSONDepth (400) or holds more than
// MaxJSONValues values (413), before decoding allocates its structure.
// Malformed JSON is left for the decoder, which names what is wrong.
func preScan(body []byte, maxValues int) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	depth, values := 0, 0
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			depth--
			continue
		}
		if values++; values > maxValues {
			p := problem.New(problem.TooLarge, "holds more than %d values", maxValues)
			p.Field = "body"
			return p
		}
		if d, ok := tok.(json.Delim); ok && (d == '{' || d == '[') {
			if depth++; depth > MaxJSONDepth {
				return problem.Field("body", "nests deeper than %d levels", MaxJSONDepth)
			}
		}
	}
}

// fieldAtInvalidUTF8 names the field ("customer.name") whose key or string
// value holds the first invalid UTF-8 byte of body, or "body".
func fieldAtInvalidUTF8(body []byte) string {
	bad := 0
	for bad < len(body) {
		r, size := utf8.DecodeRune(body[bad:])
		if r == utf8.RuneError && size <= 1 {
			break
		}
		bad += size
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	type level struct {
		object bool
		key    string
		expect bool // an object's next string is a key
	}
	var stack []level
	path := func() string {
		var parts []string
		for _, l := range stack {
			if l.object && l.key != "" {
				parts = append(parts, l.key)
			}
		}
		return strings.Join(parts, ".")
	}
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		top := len(stack) - 1
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				stack = append(stack, level{object: true, expect: true})
			case '[':
				stack = append(stack, level{})
			default:
				stack = stack[:top]
				if top > 0 && stack[top-1].object {
					stack[top-1].expect = true
				}
			}
			continue
		case string:
			if top >= 0 && stack[top].object && stack[top].expect {
				stack[top].key, stack[top].expect = t, false
				if dec.InputOffset() > int64(bad) {
					return orBody(path())
				}
				continue
			}
		}
		if dec.InputOffset() > int64(bad) {
			return orBody(path())
		}
		if top >= 0 && stack[top].object {
			stack[top].expect = true
		}
	}
	return "body"
}

func orBody(path string) string {
	if path == "" {
		return "body"
	}
	return path
}

func jsonError(err error) error {
	var (
		syntax    *json.SyntaxError
		typ       *json.UnmarshalTypeError
		tooLarge  *http.MaxBytesError
		unmarshal *json.InvalidUnmarshalError
	)
	switch {
	case errors.As(err, &tooLarge):
		return err
	case errors.Is(err, io.EOF):
		return problem.New(problem.Invalid, "request body is empty; send a JSON object")
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
		return problem.New(problem.Invalid, "request body is not valid JSON")
	case errors.As(err, &typ):
		if typ.Field == "" {
			return problem.New(problem.Invalid, "request body must be a JSON object")
		}
		return problem.Field(typ.Field, "must be %s", describeType(typ.Type))
	case errors.As(err, &unmarshal):
		return err
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return problem.Field(name, "is not a known field")
	}
	return problem.New(problem.Invalid, "request body is not valid: %s", err.Error())
}

func describeType(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int64, reflect.Int32, reflect.Uint, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return fmt.Sprintf("of type %s", t.Kind())
}
