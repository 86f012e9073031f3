package page

import (
	"log/slog"

	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/web/i18n"
)

// Keys of the request's values. Only this package reads and writes them.
const (
	actorKey     = "terroir.actor"
	localeKey    = "terroir.locale"
	requestIDKey = "terroir.request_id"
	loggerKey    = "terroir.logger"
	csrfKey      = "terroir.csrf"
	answerKey    = "terroir.answer"
	rendererKey  = "terroir.renderer"
	groupKey     = "terroir.page_group"
)

// Actor is the acting user; anonymous when no one is logged in.
func Actor(c *gin.Context) access.Actor {
	a, _ := c.Get(actorKey)
	actor, _ := a.(access.Actor)
	return actor
}

// SetActor records the acting user (web's authentication middleware).
func SetActor(c *gin.Context, a access.Actor) { c.Set(actorKey, a) }

// Locale is the language of the answer: the page's, or the default one.
func Locale(c *gin.Context) *i18n.Locale {
	if l, ok := c.Value(localeKey).(*i18n.Locale); ok {
		return l
	}
	if r := rendererOf(c); r != nil {
		return r.bundle.Locale(i18n.Default)
	}
	return nil
}

// SetLocale records the negotiated language (web's language middleware).
func SetLocale(c *gin.Context, l *i18n.Locale) { c.Set(localeKey, l) }

// Group is the page group the request's page belongs to ("trace",
// "harvest"): the pages a partial catalogue may be written for. Empty for
// the other pages, which are offered in the complete languages only.
func Group(c *gin.Context) string { return c.GetString(groupKey) }

// SetGroup records the request's page group (web's language middleware,
// which negotiates the language among those the group is offered in).
func SetGroup(c *gin.Context, group string) { c.Set(groupKey, group) }

// RequestID is the request's ID, echoed in X-Request-ID and in 5xx bodies.
func RequestID(c *gin.Context) string { return c.GetString(requestIDKey) }

// SetRequestID records the request's ID.
func SetRequestID(c *gin.Context, id string) { c.Set(requestIDKey, id) }

// Logger is the server's logger (there is no package-level logger).
func Logger(c *gin.Context) *slog.Logger {
	if l, ok := c.Value(loggerKey).(*slog.Logger); ok {
		return l
	}
	return slog.New(slog.DiscardHandler)
}

// SetLogger records the server's logger for the request.
func SetLogger(c *gin.Context, l *slog.Logger) { c.Set(loggerKey, l) }

// CSRF is the token a form of this page must carry (web's CSRF middleware
// decides it: the session's secret, or a double-submit cookie).
func CSRF(c *gin.Context) string { return c.GetString(csrfKey) }

// SetCSRF records the form token.
func SetCSRF(c *gin.Context, token string) { c.Set(csrfKey, token) }

// Answer is how a route group answers errors.
type Answer int

// The route groups' kinds of answer.
const (
	AppPages    Answer = iota // back-office and storefront pages: the app layout
	PublicPages               // trace and catalogue pages: the light public layout
	JSONAnswers               // the API: the error shape of API.md
)

// Answers is the middleware that marks a route group's kind of answer.
func Answers(a Answer) gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Set(answerKey, a)
		c.Next()
	}
}

// AnswerAs marks the request's kind of answer outside a group (a path no
// route has).
func AnswerAs(c *gin.Context, a Answer) { c.Set(answerKey, a) }

func answerOf(c *gin.Context) Answer {
	a, _ := c.Value(answerKey).(Answer)
	return a
}

// Use puts the renderer in every request (web's first middleware), for
// Fail's error pages.
func Use(r *Renderer) gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Set(rendererKey, r)
		c.Next()
	}
}

func rendererOf(c *gin.Context) *Renderer {
	r, _ := c.Value(rendererKey).(*Renderer)
	return r
}
