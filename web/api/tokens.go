package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/web/accounts"
	"github.com/terroir-coop/terroir/web/page"
)

type tokenRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

type tokenResponse struct {
	Token     string `json:"token"`
	ExpiresAt string `json:"expires_at"`
}

// IssueToken answers POST /api/v1/auth/token: email and password for a
// bearer token; wrong credentials → 401, too many failures → 429.
func (h *Handlers) IssueToken(c *gin.Context) {
	var req tokenRequest
	if err := decodeJSON(c, &req); err != nil {
		page.Fail(c, err)
		return
	}
	u, err := h.d.Accounts.Authenticate(c.Request.Context(), req.Email, req.Password, c.ClientIP())
	if err != nil {
		page.Fail(c, err)
		return
	}
	secret, t, err := h.d.Accounts.IssueToken(c.Request.Context(), u, accounts.KindAPI, h.d.TokenTTL)
	if err != nil {
		page.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, tokenResponse{Token: secret, ExpiresAt: t.ExpiresAt.UTC().Format("2006-01-02T15:04:05Z07:00")})
}

// Me answers GET /api/v1/me: who the token is.
func (h *Handlers) Me(c *gin.Context) {
	a := page.Actor(c)
	if a.Anonymous() {
		page.Fail(c, access.ErrUnauthorized)
		return
	}
	c.JSON(http.StatusOK, gin.H{"id": a.UserID, "email": a.Email, "role": a.Role, "org": a.Org, "scope": a.Scope})
}
