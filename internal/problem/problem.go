// Package problem is the vocabulary of errors that the domain packages return
// and that web maps to HTTP statuses in one table (web/page/errors.go).
//
// A domain error carries a Code (what kind of failure it is, and so which
// status it becomes), an optional Field (the request field at fault, shown to
// the client so a form can point at it) and a Message written for the person
// who sent the request. Anything that is not a *Error is an internal error:
// its text is logged and never shown.
//
// Messages are translated gettext-style: the English format string given to
// New or Field is the message's stable key (Key) and its arguments are kept
// (Args), so a page can print the message in its reader's language from the
// catalogue (web/i18n) while Message, the English text, is what the JSON API
// answers. An argument that is itself vocabulary — a product kind, a unit
// dimension — is a Term, so the page names it in its language too. Keys are
// therefore part of the catalogue's contract: changing a format string means
// changing its translations (a test in web/i18n fails until they exist).
package problem

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// Code names a kind of failure. The strings are part of the HTTP contract
// (the "code" of API.md's error shape).
type Code string

// The codes of the HTTP contract.
const (
	Invalid           Code = "invalid"            // 400: the request is malformed or a field is wrong
	Unauthorized      Code = "unauthorized"       // 401: no or bad credentials
	Forbidden         Code = "forbidden"          // 403: authenticated but not allowed
	NotFound          Code = "not_found"          // 404
	Conflict          Code = "conflict"           // 409: duplicate or state conflict
	InsufficientStock Code = "insufficient_stock" // 409: not enough available quantity
	TooLarge          Code = "too_large"          // 413
	UnsupportedType   Code = "unsupported_type"   // 415: an upload of a type that is not accepted
	Unprocessable     Code = "unprocessable"      // 422: well-formed but not acceptable
	TooManyRequests   Code = "too_many_requests"  // 429: throttled
	Unavailable       Code = "unavailable"        // 503: a dependency (payments) is down
	// PaymentsUnavailable (503): online payment is not configured or the
	// provider cannot be reached; nothing was ordered.
	PaymentsUnavailable Code = "payments_unavailable"
)

// Error is a failure the client can act on.
type Error struct {
	Code    Code
	Field   string // the request field at fault, if any
	Message string // in English: what the JSON API answers
	// Key is the message's catalogue key: the English format string Message
	// was made from. Args are its arguments. An Error built as a literal has
	// no Key; its Message is then the key.
	Key  string
	Args []any
	// Details, when set, is shown to the client as "details" (for example
	// the list of rows of a file import that were refused).
	Details any
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s", e.Field, e.Message)
	}
	return e.Message
}

// MessageKey is the catalogue key of the message: Key, or Message for an
// Error written as a literal.
func (e *Error) MessageKey() string {
	if e.Key != "" {
		return e.Key
	}
	return e.Message
}

// Is makes errors.Is match two *Error values with the same code and message,
// so sentinels such as traceability.ErrNotFound survive wrapping and copying.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code && t.Message == e.Message && t.Field == e.Field
}

// New returns an error of the given code. format is the message's key.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Key: format, Args: args}
}

// Field returns an Invalid error naming the field at fault.
func Field(field, format string, args ...any) *Error {
	return &Error{Code: Invalid, Field: field, Message: fmt.Sprintf(format, args...), Key: format, Args: args}
}

// As returns the *Error inside err, if there is one.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// CodeOf returns the code of err, or "" for an internal error.
func CodeOf(err error) Code {
	if e, ok := As(err); ok {
		return e.Code
	}
	return ""
}

// WithPrefix returns a copy of e whose Field is nested under prefix, so a
// rule written for "quantity" can report "inputs[2].quantity". The receiver
// is left unchanged because the same error value may be shared.
func (e *Error) WithPrefix(prefix string) *Error {
	c := *e
	if prefix != "" && c.Field != "" {
		c.Field = prefix + "." + c.Field
	} else if prefix != "" {
		c.Field = prefix
	}
	return &c
}

// At returns a copy of e that names field as the one at fault (an error of
// any code may point at a field: 409 insufficient_stock on "lines[2].units").
func (e *Error) At(field string) *Error {
	c := *e
	c.Field = field
	return &c
}

// Term is an argument of a message that is itself vocabulary: a product
// kind, a unit dimension, a role. In the English Message it prints as its
// code; a page prints its name from the catalogue (Vocabulary + "." + Code).
type Term struct {
	Vocabulary string // "kind", "dimension", "role"…
	Code       string
}

// String is the code, as the English message and the API show it.
func (t Term) String() string { return t.Code }

// Kind is a product kind (traceability's ProductKinds) as a message argument.
func Kind(code string) Term { return Term{Vocabulary: "kind", Code: code} }

// Dimension is a unit dimension (mass, volume, count) as a message argument.
func Dimension(d string) Term { return Term{Vocabulary: "dimension", Code: d} }

// Step is a process (drying, sorting…) as a message argument.
func Step(code string) Term { return Term{Vocabulary: "step", Code: code} }

// Terms is a list of codes of one vocabulary as one message argument: in
// the English Message the codes joined by ", ", on a page their names.
type Terms struct {
	Vocabulary string
	Codes      []string
}

// String is the codes joined by ", ", as the English message shows them.
func (t Terms) String() string { return strings.Join(t.Codes, ", ") }

// Kinds is a list of product kinds as a message argument.
func Kinds(codes []string) Terms { return Terms{Vocabulary: "kind", Codes: codes} }

// RequireText checks a free-text field: present, valid UTF-8, at most max
// runes (surrounding spaces do not count).
func RequireText(field, v string, max int) error {
	v = strings.TrimSpace(v)
	switch {
	case v == "":
		return Field(field, "is required")
	case !utf8.ValidString(v):
		return Field(field, "is not valid UTF-8")
	case utf8.RuneCountInString(v) > max:
		return Field(field, "must be at most %d characters", max)
	}
	return nil
}

// OneOf checks that v is one of the allowed values.
func OneOf(field, v string, allowed []string) error {
	if slices.Contains(allowed, v) {
		return nil
	}
	return Field(field, "must be one of %s", strings.Join(allowed, ", "))
}
