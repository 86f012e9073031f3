package web

import (
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/internal/problem"
	"github.com/terroir-coop/terroir/web/accounts"
)

const (
	actorKey      = "actor"
	sessionKey    = "session"
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
		c.Set(actorKey, access.Actor{})
		c.Next()
		return
	}
	secret, ok := strings.CutPrefix(h, "Bearer ")
	if !ok {
		fail(c, problem.New(problem.Unauthorized, "Authorization must be \"Bearer <token>\""))
		return
	}
	u, _, err := s.deps.Accounts.Resolve(c.Request.Context(), strings.TrimSpace(secret), accounts.KindAPI)
	if err != nil {
		fail(c, problem.New(problem.Unauthorized, "the token is unknown or expired; get a new one at POST /api/v1/auth/token"))
		return
	}
	c.Set(actorKey, u.Actor())
	c.Next()
}

func actorOf(c *gin.Context) access.Actor {
	a, _ := c.Get(actorKey)
	actor, _ := a.(access.Actor)
	return actor
}

type tokenRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

type tokenResponse struct {
	Token     string `json:"token"`
	ExpiresAt string `json:"expires_at"`
}

func (s *Server) issueToken(c *gin.Context) {
	var req tokenRequest
	if err := decodeJSON(c, &req); err != nil {
		fail(c, err)
		return
	}
	u, err := s.deps.Accounts.Authenticate(c.Request.Context(), req.Email, req.Password, c.ClientIP())
	if err != nil {
		fail(c, err)
		return
	}
	secret, t, err := s.deps.Accounts.IssueToken(c.Request.Context(), u, accounts.KindAPI, s.cfg.TokenTTL)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, tokenResponse{Token: secret, ExpiresAt: t.ExpiresAt.UTC().Format("2006-01-02T15:04:05Z07:00")})
}

// session is the logged-in browser, if any.
type session struct {
	user   accounts.User
	csrf   string
	secret string
}

// pageAuth resolves the session cookie into the acting user (anonymous when
// absent or expired) for HTML pages.
func (s *Server) pageAuth(c *gin.Context) {
	actor := access.Actor{}
	if secret, err := c.Cookie(sessionCookie); err == nil && secret != "" {
		u, t, err := s.deps.Accounts.Resolve(c.Request.Context(), secret, accounts.KindSession)
		if err == nil {
			actor = u.Actor()
			c.Set(sessionKey, &session{user: u, csrf: t.CSRF, secret: secret})
		}
	}
	c.Set(actorKey, actor)
	c.Next()
}

func sessionOf(c *gin.Context) *session {
	v, _ := c.Get(sessionKey)
	sess, _ := v.(*session)
	return sess
}

// csrfToken returns the token a form must carry: the session's secret when
// logged in, else a double-submit cookie set here.
func (s *Server) csrfToken(c *gin.Context) string {
	if sess := sessionOf(c); sess != nil {
		return sess.csrf
	}
	if v, err := c.Cookie(csrfCookie); err == nil && len(v) >= 20 {
		return v
	}
	v := accounts.RandomSecret(24)
	s.setCookie(c, csrfCookie, v, 0)
	return v
}

// checkCSRF refuses a form post whose token does not match.
func (s *Server) checkCSRF(c *gin.Context) bool {
	want := ""
	if sess := sessionOf(c); sess != nil {
		want = sess.csrf
	} else if v, err := c.Cookie(csrfCookie); err == nil {
		want = v
	}
	got := c.PostForm(csrfField)
	if want == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		s.renderError(c, http.StatusForbidden, "csrf_failed")
		return false
	}
	return true
}

func (s *Server) setCookie(c *gin.Context, name, value string, maxAge int) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name: name, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: s.secureCookies(), SameSite: http.SameSiteLaxMode,
	})
}

// safeNext keeps a post-login redirect on this site: a local path only,
// never "//host" or "/\host", which browsers treat as another origin.
func safeNext(next string) string {
	if next == "" || next[0] != '/' || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") || strings.ContainsAny(next, "\r\n") {
		return ""
	}
	return next
}
