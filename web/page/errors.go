package page

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/internal/problem"
)

// statusOf is the one table from error codes to HTTP statuses.
var statusOf = map[problem.Code]int{
	problem.Invalid:             http.StatusBadRequest,
	problem.Unauthorized:        http.StatusUnauthorized,
	problem.Forbidden:           http.StatusForbidden,
	problem.NotFound:            http.StatusNotFound,
	problem.Conflict:            http.StatusConflict,
	problem.InsufficientStock:   http.StatusConflict,
	problem.TooLarge:            http.StatusRequestEntityTooLarge,
	problem.UnsupportedType:     http.StatusUnsupportedMediaType,
	problem.Unprocessable:       http.StatusUnprocessableEntity,
	problem.TooManyRequests:     http.StatusTooManyRequests,
	problem.Unavailable:         http.StatusServiceUnavailable,
	problem.PaymentsUnavailable: http.StatusServiceUnavailable,
}

// Problem is err as the client may see it: a *problem.Error (an oversized
// body becomes one), or nil for an internal error.
func Problem(err error) *problem.Error {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return problem.New(problem.TooLarge, "request body is larger than %d bytes", tooLarge.Limit)
	}
	if p, ok := problem.As(err); ok {
		if _, ok := statusOf[p.Code]; ok {
			return p
		}
	}
	return nil
}

// Status is the HTTP status of err: from the table for a domain error, 500
// for anything else.
func Status(err error) int {
	if p := Problem(err); p != nil {
		return statusOf[p.Code]
	}
	return http.StatusInternalServerError
}

// ErrorBody is the error shape of API.md.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is the inside of ErrorBody.
type ErrorDetail struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	Field     string `json:"field,omitempty"`
	RequestID string `json:"request_id,omitempty"`
	Details   any    `json:"details,omitempty"`
}

// Fail answers the request with err and stops its handlers: the JSON error
// shape on the API group; elsewhere a page in the reader's language, or a
// redirect to the login form when the visitor must log in. An internal
// error is logged with its text and answered with the request ID only.
func Fail(c *gin.Context, err error) {
	p := Problem(err)
	if p == nil {
		Logger(c).ErrorContext(c.Request.Context(), "internal error", "err", err.Error(), "request_id", RequestID(c),
			"method", c.Request.Method, "path", c.Request.URL.Path)
	}
	status := Status(err)
	if answerOf(c) == JSONAnswers {
		d := ErrorDetail{Code: "internal", Message: "internal error", RequestID: RequestID(c)}
		if p != nil {
			d = ErrorDetail{Code: string(p.Code), Message: p.Message, Field: p.Field, Details: p.Details}
		}
		c.AbortWithStatusJSON(status, ErrorBody{Error: d})
		return
	}
	if p != nil && p.Code == problem.Unauthorized {
		c.Redirect(http.StatusSeeOther, "/login?next="+url.QueryEscape(c.Request.URL.RequestURI()))
		c.Abort()
		return
	}
	r := rendererOf(c)
	if r == nil {
		c.AbortWithStatus(status)
		return
	}
	r.errorPage(c, status, err)
	c.Abort()
}

// errorView is the error page.
type errorView struct {
	Page
	Message   string
	Reference string // the request ID of an internal error
}

func (r *Renderer) errorPage(c *gin.Context, status int, err error) {
	l := Locale(c)
	v := &errorView{Page: r.Page(c, l.T("err_title"))}
	if p := Problem(err); p != nil {
		v.Message = l.Message(p)
	} else {
		v.Message, v.Reference = l.T("err_internal"), RequestID(c)
	}
	name := "page/error"
	if answerOf(c) == PublicPages {
		name = "page/public_error"
		v.Page = r.PublicPage(c, v.Message+" · "+l.T("site"))
		v.Styles = []string{"catalog.css"}
	}
	r.Render(c, status, name, v)
}
