package web

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/shops"
	"github.com/terroir-coop/terroir/traceability"
	"github.com/terroir-coop/terroir/web/accounts"
)

// pageOf reads ?limit= and ?offset= (defaults applied by the services).
func pageOf(c *gin.Context) traceability.Page {
	limit, _ := strconv.Atoi(c.Query("limit"))
	offset, _ := strconv.Atoi(c.Query("offset"))
	return traceability.Page{Limit: limit, Offset: offset}.Normalized()
}

type cooperativeRequest struct {
	Code     string `json:"code"`
	Name     string `json:"name"`
	Kind     string `json:"kind"`
	Commune  string `json:"commune"`
	Province string `json:"province"`
	Group    string `json:"group"`
}

func (s *Server) createCooperative(c *gin.Context) {
	var req cooperativeRequest
	if err := decodeJSON(c, &req); err != nil {
		fail(c, err)
		return
	}
	coop, err := s.deps.Traceability.CreateCooperative(c.Request.Context(), actorOf(c), traceability.Cooperative{
		Code: req.Code, Name: req.Name, Kind: req.Kind, Commune: req.Commune, Province: req.Province, Group: req.Group,
	})
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, coop)
}

func (s *Server) listCooperatives(c *gin.Context) {
	coops, err := s.deps.Traceability.Cooperatives(c.Request.Context(), actorOf(c), pageOf(c))
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, list(coops))
}

func (s *Server) getCooperative(c *gin.Context) {
	coop, err := s.deps.Traceability.Cooperative(c.Request.Context(), actorOf(c), c.Param("coop"))
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, coop)
}

type memberRequest struct {
	Name    string `json:"name"`
	Gender  string `json:"gender"`
	Village string `json:"village"`
}

func (s *Server) addMember(c *gin.Context) {
	var req memberRequest
	if err := decodeJSON(c, &req); err != nil {
		fail(c, err)
		return
	}
	m, err := s.deps.Traceability.AddMember(c.Request.Context(), actorOf(c), c.Param("coop"),
		traceability.Member{Name: req.Name, Gender: req.Gender, Village: req.Village})
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, m)
}

func (s *Server) listMembers(c *gin.Context) {
	ms, err := s.deps.Traceability.Members(c.Request.Context(), actorOf(c), c.Param("coop"), pageOf(c))
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, list(ms))
}

type shopRequest struct {
	Code     string `json:"code"`
	Name     string `json:"name"`
	City     string `json:"city"`
	Currency string `json:"currency"`
	Kind     string `json:"kind"`
}

func (s *Server) createShop(c *gin.Context) {
	var req shopRequest
	if err := decodeJSON(c, &req); err != nil {
		fail(c, err)
		return
	}
	sh, err := s.deps.Shops.CreateShop(c.Request.Context(), actorOf(c), shops.Shop{
		Code: req.Code, Name: req.Name, City: req.City, Currency: req.Currency, Kind: req.Kind,
	})
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, sh)
}

func (s *Server) listShops(c *gin.Context) {
	list_, err := s.deps.Shops.Shops(c.Request.Context(), pageOf(c))
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, list(list_))
}

func (s *Server) getShop(c *gin.Context) {
	sh, err := s.deps.Shops.Shop(c.Request.Context(), c.Param("shop"))
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, sh)
}

type userRequest struct {
	Email    string   `json:"email"`
	Password string   `json:"password"`
	Role     string   `json:"role"`
	Org      string   `json:"org"`
	Scope    []string `json:"scope"`
}

func (s *Server) createUser(c *gin.Context) {
	var req userRequest
	if err := decodeJSON(c, &req); err != nil {
		fail(c, err)
		return
	}
	u, err := s.deps.Accounts.CreateUser(c.Request.Context(), actorOf(c), accounts.NewUser{
		Email: req.Email, Password: req.Password, Role: access.Role(req.Role), Org: req.Org, Scope: req.Scope,
	})
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, u)
}

func (s *Server) listUsers(c *gin.Context) {
	us, err := s.deps.Accounts.Users(c.Request.Context(), actorOf(c), pageOf(c))
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, list(us))
}

func (s *Server) me(c *gin.Context) {
	a := actorOf(c)
	if a.Anonymous() {
		fail(c, access.ErrUnauthorized)
		return
	}
	c.JSON(http.StatusOK, gin.H{"id": a.UserID, "email": a.Email, "role": a.Role, "org": a.Org, "scope": a.Scope})
}
