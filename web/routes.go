package web

import (
	"io/fs"
	"net/http"

	"github.com/gin-gonic/gin"
)

func (s *Server) routes() *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.HandleMethodNotAllowed = true
	r.Use(func(c *gin.Context) { c.Set(loggerKey, s.log) }, withRequestID, s.observe, recoverPanics, securityHeaders, s.limitBody)
	r.NoRoute(s.notFound)
	r.NoMethod(func(c *gin.Context) {
		c.AbortWithStatusJSON(http.StatusMethodNotAllowed, errorBody{Error: errorDetail{Code: "method_not_allowed", Message: "method not allowed"}})
	})

	r.GET("/healthz", s.healthz)
	r.GET("/readyz", s.readyz)
	r.GET("/metrics", s.metricsHandler())
	static, _ := fs.Sub(assets, "static")
	r.GET("/static/*path", staticHandler(static))

	api := r.Group("/api/v1", s.apiAuth, noStore, s.idempotent)
	api.GET("/openapi.json", s.openAPI)
	api.POST("/auth/token", s.issueToken)
	api.GET("/me", s.me)
	api.POST("/cooperatives", s.createCooperative)
	api.GET("/cooperatives", s.listCooperatives)
	api.GET("/cooperatives/:coop", s.getCooperative)
	api.POST("/cooperatives/:coop/members", s.addMember)
	api.GET("/cooperatives/:coop/members", s.listMembers)
	api.POST("/shops", s.createShop)
	api.GET("/shops", s.listShops)
	api.GET("/shops/:shop", s.getShop)
	api.POST("/users", s.createUser)
	api.GET("/users", s.listUsers)
	api.POST("/cooperatives/:coop/parcels", s.addParcel)
	api.GET("/cooperatives/:coop/parcels", s.listParcels)
	api.POST("/cooperatives/:coop/harvests", s.addHarvest)
	api.GET("/cooperatives/:coop/harvests", s.listHarvests)
	api.POST("/cooperatives/:coop/harvests/import", s.importHarvests)
	api.POST("/cooperatives/:coop/lots", s.createLot)
	api.GET("/cooperatives/:coop/lots", s.listLots)
	api.POST("/cooperatives/:coop/transformations", s.createTransformation)
	api.POST("/cooperatives/:coop/packings", s.createPacking)
	api.GET("/cooperatives/:coop/flags", s.listFlags)
	api.GET("/cooperatives/:coop/mass-balance", s.massBalance)
	api.GET("/cooperatives/:coop/certifications", s.listCertifications)
	api.GET("/lots/:code", s.getLot)
	api.POST("/lots/:code/flags/:flag/justification", s.justifyFlag)
	api.POST("/certifications", s.createCertification)
	api.GET("/certifications/:id", s.getCertification)
	api.POST("/certifications/:id/status", s.setCertificationStatus)
	api.POST("/products", s.createProduct)
	api.GET("/products", s.listProducts)
	api.GET("/products/:sku", s.getProduct)
	api.GET("/plausibility", s.plausibilityTable)
	s.codeRoutes(r, api)
	s.traceRoutes(r, api)
	s.shopRoutes(api)
	s.orderRoutes(api)
	s.settlementRoutes(api)
	s.backupRoutes(api)

	pages := r.Group("/", s.pageAuth, s.language)
	pages.GET("/", s.homePage)
	pages.GET("/login", s.loginPage)
	pages.POST("/login", s.loginSubmit)
	pages.POST("/logout", s.logoutSubmit)
	pages.GET("/admin", s.adminPage)
	pages.POST("/admin/cooperatives", s.adminCreateCooperative)
	pages.POST("/admin/shops", s.adminCreateShop)
	pages.POST("/admin/users", s.adminCreateUser)
	pages.GET("/coop/:coop", s.coopPage)
	pages.POST("/coop/:coop/members", s.coopAddMember)
	s.recordPages(pages)
	s.shopPages(pages)
	s.storePages(r, pages)
	s.settlementPages(pages)
	s.catalogRoutes(r, api)
	return r
}

// noStore keeps API answers (which may be private) out of shared caches.
func noStore(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	c.Next()
}

func staticHandler(files fs.FS) gin.HandlerFunc {
	h := http.StripPrefix("/static", http.FileServer(http.FS(files)))
	return func(c *gin.Context) {
		// Static files are versioned by the server build (?v=), so they can
		// be cached for a long time by phones on slow links.
		c.Header("Cache-Control", "public, max-age=86400")
		h.ServeHTTP(c.Writer, c.Request)
	}
}

// Route is a method and path the server answers.
type Route struct{ Method, Path string }

// Routes lists the routes of a handler made by New (for documentation
// checks and the authorization matrix); nil for any other handler.
func Routes(h http.Handler) []Route {
	s, ok := h.(*Server)
	if !ok {
		return nil
	}
	var out []Route
	for _, r := range s.engine.Routes() {
		out = append(out, Route{Method: r.Method, Path: r.Path})
	}
	return out
}
