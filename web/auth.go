package web

import (
	"crypto/subtle"
	"net/http"
	"strings"
	"unicode"

	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/internal/problem"
	"github.com/terroir-coop/terroir/web/accounts"
	"github.com/terroir-coop/terroir/web/page"
)

const (
	sessionKey    = "terroir.session"
	sessionCookie = "terroir_session"
	csrfCookie    = "terroir_csrf"
	csrfField     = "csrf"
)

// apiAuth resolves a bearer token into the acting user. No header means an
// anonymous actor (the services refuse what anonymous may not do with 401);
// a header with a bad or expired token is refused at once with 401.
func (s *Server) apiAuth(c *gin.Context) {
	h := c.GetHeader("Authorization")
	if h == "" {
		page.SetActor(c, access.Actor{})
		c.Next()
		return
	}
	secret, ok := strings.CutPrefix(h, "Bearer ")
	if !ok {
		page.Fail(c, problem.New(problem.Unauthorized, "Authorization must be \"Bearer <token>\""))
		return
	}
	u, _, err := s.deps.Accounts.Resolve(c.Request.Context(), strings.TrimSpace(secret), accounts.KindAPI)
	if err != nil {
		page.Fail(c, problem.New(problem.Unauthorized, "the token is unknown or expired; get a new one at POST /api/v1/auth/token"))
		return
	}
	page.SetActor(c, u.Actor())
	c.Next()
}

// session is the logged-in browser, if any.
type session struct {
	user   accounts.User
	csrf   string
	secret string
}

// pageAuth resolves the session cookie into the acting user (anonymous when
// absent or expired) for HTML pages, and the token its forms must carry:
// the session's secret once logged in, a double-submit cookie before (the
// login form).
func (s *Server) pageAuth(c *gin.Context) {
	actor := access.Actor{}
	token := ""
	if secret, err := c.Cookie(sessionCookie); err == nil && secret != "" {
		u, t, err := s.deps.Accounts.Resolve(c.Request.Context(), secret, accounts.KindSession)
		if err == nil {
			actor, token = u.Actor(), t.CSRF
			c.Set(sessionKey, &session{user: u, csrf: t.CSRF, secret: secret})
		}
	}
	if token == "" {
		if v, err := c.Cookie(csrfCookie); err == nil && len(v) >= 20 {
			token = v
		} else {
			token = accounts.RandomSecret(24)
			s.pages.SetCookie(c, csrfCookie, token, 0)
		}
	}
	page.SetActor(c, actor)
	page.SetCSRF(c, token)
	c.Next()
}

func sessionOf(c *gin.Context) *session {
	v, _ := c.Get(sessionKey)
	sess, _ := v.(*session)
	return sess
}

// errCSRF is the refusal of a form whose token does not match.
var errCSRF = problem.New(problem.Forbidden, "the form expired; reload the page and try again")

// checkCSRF refuses every form post whose token does not match, before any
// handler reads the form: the session's secret when logged in, else the
// double-submit cookie.
func (s *Server) checkCSRF(c *gin.Context) {
	if c.Request.Method == http.MethodGet || c.Request.Method == http.MethodHead {
		c.Next()
		return
	}
	want := ""
	if sess := sessionOf(c); sess != nil {
		want = sess.csrf
	} else if v, err := c.Cookie(csrfCookie); err == nil {
		want = v
	}
	got := c.PostForm(csrfField)
	if want == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		page.Fail(c, errCSRF)
		return
	}
	c.Next()
}

// loginView is the login page.
type loginView struct {
	page.Page
	Next, Email, Refusal string
}

func (s *Server) loginPage(c *gin.Context) {
	l := page.Locale(c)
	v := &loginView{Page: s.pages.Page(c, l.T("login")), Next: safeNext(c.Query("next"))}
	s.pages.Render(c, http.StatusOK, "web/login", v)
}

func (s *Server) loginSubmit(c *gin.Context) {
	email, password := c.PostForm("email"), c.PostForm("password")
	u, err := s.deps.Accounts.Authenticate(c.Request.Context(), email, password, c.ClientIP())
	if err != nil {
		code := problem.CodeOf(err)
		if code != problem.Unauthorized && code != problem.TooManyRequests {
			page.Fail(c, err)
			return
		}
		l := page.Locale(c)
		v := &loginView{Page: s.pages.Page(c, l.T("login")), Next: safeNext(c.PostForm("next")), Email: email, Refusal: l.Message(err)}
		s.pages.Render(c, page.Status(err), "web/login", v)
		return
	}
	// A fresh session secret at every login: a cookie planted before login
	// (session fixation) is never promoted to a logged-in session.
	secret, _, err := s.deps.Accounts.IssueToken(c.Request.Context(), u, accounts.KindSession, s.cfg.SessionTTL)
	if err != nil {
		page.Fail(c, err)
		return
	}
	s.pages.SetCookie(c, sessionCookie, secret, int(s.cfg.SessionTTL.Seconds()))
	s.pages.SetCookie(c, csrfCookie, "", -1)
	next := safeNext(c.PostForm("next"))
	if next == "" {
		next = s.backoffice.Landing(c.Request.Context(), u.Actor())
	}
	c.Redirect(http.StatusSeeOther, next)
}

func (s *Server) logoutSubmit(c *gin.Context) {
	if sess := sessionOf(c); sess != nil {
		_ = s.deps.Accounts.Revoke(c.Request.Context(), sess.secret)
	}
	s.pages.SetCookie(c, sessionCookie, "", -1)
	c.Redirect(http.StatusSeeOther, "/")
}

// safeNext keeps a post-login redirect on this site: a local path only,
// never "//host" or "/\host", which browsers treat as another origin.
//
// Only a path of this site is accepted: no control character anywhere
// (browsers drop tabs and newlines from URLs, so "/<TAB>/evil.example"
// becomes "//evil.example"), and a single "/" followed by a path character
// — not "//", "/\\" or a bare "/" followed by something a browser could
// read as another host.
func safeNext(next string) string {
	if len(next) > 2048 || next == "" || next[0] != '/' {
		return ""
	}
	for _, r := range next {
		if r < 0x20 || r == 0x7f || unicode.IsControl(r) || r == '\\' {
			return ""
		}
	}
	if len(next) > 1 && !isPathChar(next[1]) {
		return ""
	}
	return next
}

// isPathChar reports whether b may follow the leading slash of a local
// path: a letter, a digit, or one of the characters a path segment or query
// starts with here.
func isPathChar(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || strings.IndexByte("-._~?#%", b) >= 0
}
