package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/traceability"
	"github.com/terroir-coop/terroir/web/page"
)

type cooperativeRequest struct {
	Code     string `json:"code"`
	Name     string `json:"name"`
	Kind     string `json:"kind"`
	Commune  string `json:"commune"`
	Province string `json:"province"`
	Group    string `json:"group"`
}

// CreateCooperative answers POST /api/v1/cooperatives (admin).
func (h *Handlers) CreateCooperative(c *gin.Context) {
	var req cooperativeRequest
	if err := decodeJSON(c, &req); err != nil {
		page.Fail(c, err)
		return
	}
	coop, err := h.d.Network.CreateCooperative(c.Request.Context(), page.Actor(c), traceability.Cooperative{
		Code: req.Code, Name: req.Name, Kind: req.Kind, Commune: req.Commune, Province: req.Province, Group: req.Group,
	})
	if err != nil {
		page.Fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, coop)
}

// ListCooperatives answers GET /api/v1/cooperatives.
func (h *Handlers) ListCooperatives(c *gin.Context) {
	coops, err := h.d.Network.Cooperatives(c.Request.Context(), page.Actor(c), pageOf(c))
	if err != nil {
		page.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, list(coops))
}

// GetCooperative answers GET /api/v1/cooperatives/{coop}.
func (h *Handlers) GetCooperative(c *gin.Context) {
	coop, err := h.d.Network.Cooperative(c.Request.Context(), page.Actor(c), c.Param("coop"))
	if err != nil {
		page.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, coop)
}

type memberRequest struct {
	Name    string `json:"name"`
	Gender  string `json:"gender"`
	Village string `json:"village"`
}

// AddMember answers POST /api/v1/cooperatives/{coop}/members.
func (h *Handlers) AddMember(c *gin.Context) {
	var req memberRequest
	if err := decodeJSON(c, &req); err != nil {
		page.Fail(c, err)
		return
	}
	m, err := h.d.Network.AddMember(c.Request.Context(), page.Actor(c), c.Param("coop"),
		traceability.Member{Name: req.Name, Gender: req.Gender, Village: req.Village})
	if err != nil {
		page.Fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, m)
}

// ListMembers answers GET /api/v1/cooperatives/{coop}/members.
func (h *Handlers) ListMembers(c *gin.Context) {
	ms, err := h.d.Network.Members(c.Request.Context(), page.Actor(c), c.Param("coop"), pageOf(c))
	if err != nil {
		page.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, list(ms))
}
