package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/web/accounts"
	"github.com/terroir-coop/terroir/web/page"
)

type userRequest struct {
	Email    string   `json:"email"`
	Password string   `json:"password"`
	Role     string   `json:"role"`
	Org      string   `json:"org"`
	Scope    []string `json:"scope"`
}

// CreateUser answers POST /api/v1/users (admin).
func (h *Handlers) CreateUser(c *gin.Context) {
	var req userRequest
	if err := decodeJSON(c, &req); err != nil {
		page.Fail(c, err)
		return
	}
	u, err := h.d.Accounts.CreateUser(c.Request.Context(), page.Actor(c), accounts.NewUser{
		Email: req.Email, Password: req.Password, Role: access.Role(req.Role), Org: req.Org, Scope: req.Scope,
	})
	if err != nil {
		page.Fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, u)
}

// ListUsers answers GET /api/v1/users (admin).
func (h *Handlers) ListUsers(c *gin.Context) {
	us, err := h.d.Accounts.Users(c.Request.Context(), page.Actor(c), pageOf(c))
	if err != nil {
		page.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, list(us))
}
