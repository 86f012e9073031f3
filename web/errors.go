package web

import (
	"errors"
	"log/slog"
	"net/http"

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

// errorBody is the error shape of API.md.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	Field     string `json:"field,omitempty"`
	RequestID string `json:"request_id,omitempty"`
	Details   any    `json:"details,omitempty"`
}

// classify turns any error into a status and the detail shown to the client.
// Internal errors show "internal error" and the request ID, nothing else.
func classify(c *gin.Context, err error) (int, errorDetail) {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		err = problem.New(problem.TooLarge, "request body is larger than %d bytes", tooLarge.Limit)
	}
	if p, ok := problem.As(err); ok {
		if status, ok := statusOf[p.Code]; ok {
			return status, errorDetail{Code: string(p.Code), Message: p.Message, Field: p.Field, Details: p.Details}
		}
	}
	rid := requestID(c)
	loggerOf(c).ErrorContext(c.Request.Context(), "internal error", "err", err.Error(), "request_id", rid,
		"method", c.Request.Method, "path", c.Request.URL.Path)
	return http.StatusInternalServerError, errorDetail{Code: "internal", Message: "internal error", RequestID: rid}
}

// fail answers a JSON API request with err in the error shape of API.md.
func fail(c *gin.Context, err error) {
	status, detail := classify(c, err)
	c.AbortWithStatusJSON(status, errorBody{Error: detail})
}

const loggerKey = "logger"

// loggerOf returns the server's logger, which withRequestID put in the
// request's context (there is no package-level logger).
func loggerOf(c *gin.Context) *slog.Logger {
	if l, ok := c.Value(loggerKey).(*slog.Logger); ok {
		return l
	}
	return slog.New(slog.DiscardHandler)
}
