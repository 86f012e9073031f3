package page

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/internal/problem"
)

// Form is a form the page shows again after a refusal: which form, the
// field at fault, the refusal in the page's language and everything the
// visitor typed (so a weak connection never costs them their input).
type Form struct {
	Which   string // the refused form, as the handler names it
	Invalid string // the request field at fault, as the service names it
	Error   string // the refusal, in the page's language
	Values  url.Values
}

// Get is a value of the form as typed (or its default).
func (f Form) Get(name string) string { return f.Values.Get(name) }

// Set gives a field its default value.
func (f Form) Set(name, value string) { f.Values.Set(name, value) }

// Is reports whether the form which was refused.
func (f Form) Is(which string) bool { return f.Which != "" && f.Which == which }

// Refused is the refusal of the form which, or "".
func (f Form) Refused(which string) string {
	if f.Is(which) {
		return f.Error
	}
	return ""
}

// Bad reports whether field of the form which is the one at fault.
func (f Form) Bad(which, field string) bool { return f.Is(which) && f.Invalid == field }

// Value is a typed value of the form which, or "" when another form was
// refused (each form shows only its own input back).
func (f Form) Value(which, name string) string {
	if f.Is(which) {
		return f.Values.Get(name)
	}
	return ""
}

// Keep puts a refused form back on the page p: the error in p's language,
// what was typed (never a password or the CSRF token), and returns the
// status the refusal answers with. It returns false, having answered with
// Fail, when err is not something the visitor can correct in the form
// (login needed, forbidden, internal).
func Keep(c *gin.Context, p *Page, err error, which string) (int, bool) {
	pe := Problem(err)
	if pe == nil || pe.Code == problem.Unauthorized || pe.Code == problem.Forbidden {
		Fail(c, err)
		return 0, false
	}
	_ = c.Request.ParseForm()
	for k, vals := range c.Request.PostForm {
		if k != "password" && k != "csrf" && len(vals) > 0 {
			p.Form.Values.Set(k, vals[0])
		}
	}
	p.Form.Which, p.Form.Invalid, p.Form.Error = which, pe.Field, p.L.Message(pe)
	return Status(pe), true
}

// DigitsASCII turns Arabic-Indic and Eastern Arabic-Indic digits into ASCII
// ones and drops the spaces people type inside numbers ("1 200"), so a
// phone set to Arabic can fill a number field.
func DigitsASCII(v string) string {
	var b strings.Builder
	for _, r := range strings.TrimSpace(v) {
		switch {
		case r >= '٠' && r <= '٩':
			b.WriteRune('0' + r - '٠')
		case r >= '۰' && r <= '۹':
			b.WriteRune('0' + r - '۰')
		case r == '٫':
			b.WriteRune('.')
		case r == ' ' || r == '\u00a0' || r == '\u202f':
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// WholeNumber reads a form's whole number.
func WholeNumber(field, v string) (int64, error) {
	v = DigitsASCII(v)
	if v == "" {
		return 0, problem.Field(field, "is required")
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, problem.Field(field, "%q is not a whole number", v)
	}
	return n, nil
}
