package web

import (
	"io/fs"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/internal/problem"
	"github.com/terroir-coop/terroir/web/page"
)

// routes is THE URL table: every method and path the server answers, the
// handler it binds and the middleware of its group. The audience packages
// (web/trace, web/storefront, web/backoffice, web/api) only expose
// handlers; this file alone binds paths, so the whole site reads here.
func (s *Server) routes() *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.HandleMethodNotAllowed = true
	// Forwarding headers only from the configured proxies (New has checked
	// them): X-Forwarded-For, and only that, names the client behind them.
	_ = r.SetTrustedProxies(s.cfg.TrustedProxies)
	r.ForwardedByClientIP = len(s.cfg.TrustedProxies) > 0
	r.RemoteIPHeaders = []string{"X-Forwarded-For"}
	r.Use(func(c *gin.Context) { page.SetLogger(c, s.log); c.Next() }, withRequestID, s.observe, compress, recoverPanics, securityHeaders(s.cfg.MapTiles),
		page.Use(s.pages), answerByPath, s.limitBody)
	r.NoRoute(s.notFound)
	r.NoMethod(func(c *gin.Context) {
		c.AbortWithStatusJSON(http.StatusMethodNotAllowed, page.ErrorBody{Error: page.ErrorDetail{Code: "method_not_allowed", Message: "method not allowed"}})
	})

	// Operations.
	r.GET("/healthz", s.healthz)
	r.GET("/readyz", s.readyz)
	r.GET("/metrics", s.metricsHandler())
	static, _ := fs.Sub(assets, "static")
	r.GET("/static/*path", staticHandler(static, s.assetVersion))
	r.GET("/favicon.ico", func(c *gin.Context) { c.Redirect(http.StatusMovedPermanently, "/static/favicon.svg?v="+s.assetVersion) })
	r.GET("/harvest-sw.js", s.harvestServiceWorker) // the offline harvest page's service worker (issue 19)

	// Public pages: no session is read (a scan touches no session); errors
	// are light public pages.
	t, sf, bo, a := s.trace, s.storefront, s.backoffice, s.api
	// Each group works on a bounded number of requests at once (shed: 503
	// past it); anonymous reads of trace pages and catalogues, and
	// anonymous writes of orders and the cart, are limited per address
	// (throttle: 429). The limits are in load.go.
	public := r.Group("/", page.Answers(page.PublicPages), s.shed(s.cfg.Concurrency.Public), s.language)
	read, write := s.throttle(s.reads), s.throttle(s.writes)
	public.GET("/t/:lot", read, t.Page)
	public.GET("/01/:gtin/10/:lot", read, t.Page)
	public.GET("/01/:gtin/10/:lot/21/:serial", read, t.Page)
	// GS1-Conformant Resolver 1.2 names the file /.well-known/gs1resolver;
	// the .json name is what earlier drafts and some scanners ask for.
	public.GET("/.well-known/gs1resolver", t.Description)
	public.GET("/.well-known/gs1resolver.json", t.Description)
	// GS1-Conformant Resolver 1.2 (issue 13): a resolver answers HEAD and
	// OPTIONS (with CORS) on its Digital Links and description file.
	for _, p := range []string{"/01/:gtin/10/:lot", "/01/:gtin/10/:lot/21/:serial"} {
		public.HEAD(p, read, t.Page)
		public.OPTIONS(p, t.Options)
		// It SHOULD tolerate a trailing slash: the same answer, no redirect.
		public.GET(p+"/", read, t.Page)
		public.HEAD(p+"/", read, t.Page)
		public.OPTIONS(p+"/", t.Options)
	}
	for _, p := range []string{"/.well-known/gs1resolver", "/.well-known/gs1resolver.json"} {
		public.HEAD(p, t.Description)
		public.OPTIONS(p, t.Options)
	}
	public.GET("/shop/:channel", read, sf.Catalogue)
	public.GET("/shop/:channel/:sku", read, sf.Product)
	public.GET("/photos/:file", sf.Photo)

	// The JSON API: bearer tokens, no caching, Idempotency-Key replays.
	v1 := r.Group("/api/v1", page.Answers(page.JSONAnswers), s.shed(s.cfg.Concurrency.API), s.apiAuth, noStore, s.idempotent)
	v1.GET("/openapi.json", a.OpenAPI)
	v1.GET("/admin/backup", a.Backup)
	v1.POST("/auth/token", a.IssueToken)
	v1.GET("/me", a.Me)
	v1.GET("/trace/:code", read, t.JSON)
	v1.POST("/cooperatives", a.CreateCooperative)
	v1.GET("/cooperatives", a.ListCooperatives)
	v1.GET("/cooperatives/:coop", a.GetCooperative)
	v1.POST("/cooperatives/:coop/members", a.AddMember)
	v1.GET("/cooperatives/:coop/members", a.ListMembers)
	v1.POST("/cooperatives/:coop/parcels", a.AddParcel)
	v1.GET("/cooperatives/:coop/parcels", a.ListParcels)
	v1.POST("/cooperatives/:coop/harvests", a.AddHarvest)
	v1.GET("/cooperatives/:coop/harvests", a.ListHarvests)
	v1.POST("/cooperatives/:coop/harvests/import", a.ImportHarvests)
	v1.POST("/cooperatives/:coop/lots", a.CreateLot)
	v1.GET("/cooperatives/:coop/lots", a.ListLots)
	v1.POST("/cooperatives/:coop/transformations", a.CreateTransformation)
	v1.POST("/cooperatives/:coop/packings", a.CreatePacking)
	v1.GET("/cooperatives/:coop/flags", a.ListFlags)
	v1.GET("/cooperatives/:coop/mass-balance", a.MassBalance)
	v1.GET("/cooperatives/:coop/certifications", a.ListCertifications)
	v1.GET("/cooperatives/:coop/scan-alerts", a.ScanAlerts)
	v1.GET("/cooperatives/:coop/holdings", a.Holdings)
	v1.GET("/cooperatives/:coop/statements/:month", a.Statement)
	v1.POST("/cooperatives/:coop/statements/:month/close", a.CloseStatement)
	v1.POST("/cooperatives/:coop/advances", a.GrantAdvance)
	v1.POST("/cooperatives/:coop/payouts", a.RecordPayout)
	v1.GET("/lots/:code", a.GetLot)
	v1.POST("/lots/:code/flags/:flag/justification", a.JustifyFlag)
	v1.GET("/lots/:code/qr.png", a.LotQR)
	v1.GET("/lots/:code/labels.pdf", a.LotLabels)
	v1.GET("/lots/:code/epcis", a.LotEPCIS)
	v1.POST("/certifications", a.CreateCertification)
	v1.GET("/certifications/:id", a.GetCertification)
	v1.POST("/certifications/:id/status", a.SetCertificationStatus)
	v1.GET("/plausibility", a.Plausibility)
	v1.POST("/users", a.CreateUser)
	v1.GET("/users", a.ListUsers)
	v1.POST("/products", a.CreateProduct)
	v1.GET("/products", a.ListProducts)
	v1.GET("/products/:sku", a.GetProduct)
	v1.PUT("/products/:sku/prices/:channel", a.SetPrice)
	v1.PUT("/products/:sku/shares/:channel", a.SetShare)
	v1.POST("/products/:sku/photo", a.UploadPhoto) // api.PhotoUploadRoute: its own body limit
	// Fair stock (issue 14): a product's limit of units held unpaid per customer.
	v1.PUT("/products/:sku/unpaid-limit", a.SetUnpaidLimit)
	v1.GET("/catalog", read, a.Catalog)
	v1.POST("/shops", a.CreateShop)
	v1.GET("/shops", a.ListShops)
	v1.GET("/shops/:shop", a.GetShop)
	v1.POST("/shops/:shop/receipts", a.Receive)
	v1.POST("/shops/:shop/transfers", a.SendTransfer)
	v1.GET("/shops/:shop/transfers", a.ListTransfers)
	v1.POST("/shops/:shop/transfers/:id/receive", a.ReceiveTransfer)
	v1.GET("/shops/:shop/stock", a.Stock)
	v1.GET("/shops/:shop/shelves", a.Shelves)
	v1.PUT("/shops/:shop/thresholds/:sku", a.SetThreshold)
	v1.POST("/shops/:shop/sales", a.Sell)
	v1.GET("/shops/:shop/sales/:id", a.GetSale)
	v1.POST("/shops/:shop/returns", a.Return)
	v1.POST("/shops/:shop/adjustments", a.Adjust)
	v1.POST("/shops/:shop/counts", a.Count)
	v1.GET("/shops/:shop/movements", a.Movements)
	v1.GET("/shops/:shop/orders", a.ListOrders)
	v1.GET("/shops/:shop/outbox", a.Outbox)
	v1.POST("/orders", write, a.CreateOrder)
	v1.GET("/orders/:id", a.GetOrder)
	v1.POST("/orders/:id/refund", a.RefundOrder)
	v1.POST("/orders/:id/ship", a.ShipOrder)
	v1.POST("/orders/:id/deliver", a.DeliverOrder)
	v1.POST("/orders/:id/cancel", a.CancelOrder)
	v1.GET("/orders/:id/packing-list", a.PackingList)
	v1.POST("/stripe/webhook", a.StripeWebhook)
	// Members' pay (issue 17): statements, terms, payout runs, impact.
	v1.GET("/cooperatives/:coop/member-statements", a.MemberStatementsQuery)
	v1.GET("/cooperatives/:coop/member-statements/:month", a.MemberStatements)
	v1.GET("/cooperatives/:coop/members/:member/statements/:month", a.MemberSlip)
	v1.GET("/cooperatives/:coop/members/:member/seasons/:season", a.MemberSeason)
	v1.GET("/cooperatives/:coop/member-terms", a.MemberTerms)
	v1.PUT("/cooperatives/:coop/retention", a.SetRetention)
	v1.POST("/cooperatives/:coop/retention", a.SetRetention)
	v1.POST("/cooperatives/:coop/rates", a.SetRate)
	v1.PUT("/cooperatives/:coop/rates/:month", a.SetRate)
	v1.POST("/cooperatives/:coop/member-payouts", a.PayMembers)
	v1.GET("/cooperatives/:coop/member-payouts", a.PayoutRuns)
	v1.GET("/impact", a.Impact)
	v1.GET("/lots/:code/shares", a.Shares)
	// Register imports (issue 19).
	v1.POST("/cooperatives/:coop/imports", a.Import) // api.ImportRoute: its own body limit
	// Quality (issue 18): laboratory results, evidence files, consignments.
	v1.POST("/lots/:code/lab-results", a.AddLabResult) // api.LabResultRoute: its own body limit
	v1.GET("/lots/:code/lab-results", a.ListLabResults)
	v1.GET("/lots/:code/lab-results/:id/report", a.LabReport)
	v1.GET("/cooperatives/:coop/evidence", a.CooperativeEvidence)
	v1.POST("/cooperatives/:coop/evidence", a.CooperativeEvidence)
	v1.GET("/lots/:code/evidence", a.LotEvidence)
	v1.POST("/lots/:code/evidence", a.LotEvidence)
	v1.GET("/evidence-jobs/:id", a.EvidenceJob)
	v1.GET("/evidence-jobs/:id/file", a.EvidenceFile)
	v1.POST("/consignments", a.CreateConsignment)
	v1.POST("/cooperatives/:coop/consignments", a.CreateConsignment)
	v1.GET("/cooperatives/:coop/consignments", a.ListConsignments)
	v1.GET("/consignments/:id", a.GetConsignment)
	v1.GET("/consignments/:id/sheet.csv", a.ConsignmentSheetCSV)
	v1.GET("/consignments/:id/sheet.pdf", a.ConsignmentSheetPDF)
	v1.POST("/consignments/:id/coi", a.SetCOINumber)
	// Issue 10: corrections as events, the season's EPCIS.
	v1.POST("/cooperatives/:coop/harvests/:id/corrections", a.CorrectHarvest)
	v1.POST("/lots/:code/corrections", a.CorrectLot)
	v1.GET("/cooperatives/:coop/epcis", a.SeasonEPCIS)
	v1.GET("/plausibility/graph", a.PlausibilityGraph)

	// Pages with a session: the storefront's cart and orders, the
	// back-office. Every form is checked for its CSRF token first.
	pages := r.Group("/", page.Answers(page.AppPages), s.shed(s.cfg.Concurrency.Pages), s.pageAuth, s.language, s.checkCSRF)
	pages.GET("/", bo.Home)
	pages.GET("/check", bo.CheckCode)
	pages.GET("/login", s.loginPage)
	pages.POST("/login", s.loginSubmit)
	pages.POST("/logout", s.logoutSubmit)
	pages.GET("/plausibility", bo.PlausibilityPage)
	pages.GET("/admin", bo.AdminPage)
	pages.POST("/admin/cooperatives", bo.AdminCreateCooperative)
	pages.POST("/admin/shops", bo.AdminCreateShop)
	pages.POST("/admin/users", bo.AdminCreateUser)
	pages.GET("/coop/:coop", bo.MembersPage)
	pages.POST("/coop/:coop/members", bo.AddMember)
	pages.GET("/coop/:coop/parcels", bo.ParcelsPage)
	pages.POST("/coop/:coop/parcels", bo.ManagesCoop, bo.AddParcel)
	pages.GET("/coop/:coop/harvests", bo.HarvestsPage)
	pages.POST("/coop/:coop/harvests", bo.ManagesCoop, bo.AddHarvest)
	pages.POST("/coop/:coop/harvests/import", bo.ManagesCoop, bo.ImportHarvests)
	pages.GET("/coop/:coop/lots", bo.LotsPage)
	pages.POST("/coop/:coop/lots", bo.ManagesCoop, bo.CreateLot)
	pages.POST("/coop/:coop/transformations", bo.ManagesCoop, bo.Transform)
	pages.POST("/coop/:coop/packings", bo.ManagesCoop, bo.Pack)
	pages.GET("/coop/:coop/holdings", bo.HoldingsPage)
	pages.GET("/coop/:coop/statements", bo.StatementsNow)
	pages.GET("/coop/:coop/statements/:month", bo.StatementPage)
	// Settlement (issue 14): the admin closes an ended month from its page.
	pages.POST("/coop/:coop/statements/:month/close", bo.CloseStatement)
	pages.GET("/lots/:code", bo.LotPage)
	pages.POST("/lots/:code/flags/:flag/justification", bo.JustifyFlag)
	pages.GET("/audit/:coop", bo.AuditPage)
	pages.GET("/audit/:coop/mass-balance.csv", bo.BalanceCSV)
	pages.GET("/till/:shop", bo.TillPage)
	pages.POST("/till/:shop", bo.TillSubmit)
	pages.GET("/till/:shop/receipts/:id", bo.ReceiptPage)
	pages.GET("/shop-admin/:shop", bo.ShopAdminPage)
	pages.POST("/shop-admin/:shop/receipts", bo.Receive)
	pages.POST("/shop-admin/:shop/thresholds", bo.SetThreshold)
	pages.POST("/shop-admin/:shop/transfers", bo.Send)
	pages.POST("/shop-admin/:shop/transfers/:id/receive", bo.ReceiveTransfer)
	pages.POST("/shop-admin/:shop/adjustments", bo.Adjust)
	pages.GET("/shop-admin/:shop/movements", bo.MovementsPage)
	pages.GET("/shop-admin/:shop/count", bo.CountPage)
	pages.POST("/shop-admin/:shop/count", bo.CountSubmit)
	pages.GET("/platform/:shop", bo.PlatformPage)
	pages.GET("/platform/:shop/orders/:id", bo.PlatformOrderPage)
	pages.POST("/platform/:shop/orders/:id/ship", bo.Ship)
	pages.POST("/platform/:shop/orders/:id/deliver", bo.Deliver)
	pages.POST("/platform/:shop/orders/:id/cancel", bo.Cancel)
	pages.POST("/platform/:shop/orders/:id/refund", bo.Refund)
	pages.GET("/platform/:shop/outbox", bo.OutboxPage)
	// Members' pay (issue 17): a cooperative's members' pay, terms, payout
	// runs and slips; the network's impact report.
	pages.GET("/coop/:coop/pay", bo.PayNow)
	pages.GET("/coop/:coop/pay/:month", bo.PayPage)
	pages.GET("/coop/:coop/pay/:month/members/:member", bo.MemberSlipPage)
	pages.POST("/coop/:coop/pay/retention", bo.ManagesCoop, bo.SetRetention)
	pages.POST("/coop/:coop/pay/rates", bo.ManagesCoop, bo.SetRate)
	pages.GET("/coop/:coop/payouts/new", bo.ManagesCoop, bo.PayoutConfirm)
	pages.POST("/coop/:coop/payouts", bo.ManagesCoop, bo.PayMembers)
	pages.GET("/impact", bo.ImpactPage)
	pages.GET("/impact.csv", bo.ImpactPage)
	// Issue 10: corrections as events.
	pages.POST("/coop/:coop/harvests/corrections", bo.ManagesCoop, bo.CorrectHarvest)
	pages.POST("/lots/:code/corrections", bo.CorrectLot)
	pages.GET("/cart", sf.Cart)
	pages.POST("/cart/add", write, sf.CartAdd) // storefrontForms: 64 KB bodies
	pages.POST("/cart/update", write, sf.CartUpdate)
	pages.POST("/cart/remove", write, sf.CartRemove)
	pages.GET("/checkout", sf.Checkout)
	pages.POST("/checkout", write, sf.CheckoutSubmit)
	pages.GET("/orders/:id", sf.Order)
	// Register imports (issue 19).
	pages.GET("/coop/:coop/import", bo.ManagesCoop, bo.ImportPage)
	pages.POST("/coop/:coop/import", bo.ManagesCoop, bo.Import) // backoffice.ImportRoute: its own body limit
	// Offline harvest recording (issue 19): the page, and its outbox's
	// posts, answered in JSON and replayed by Idempotency-Key.
	pages.GET("/coop/:coop/harvests/offline", bo.ManagesCoop, bo.OfflineHarvestsPage)
	pages.POST("/coop/:coop/harvests/outbox", page.Answers(page.JSONAnswers), bo.ManagesCoop, formAsBody, s.idempotent, bo.RecordOfflineHarvest)
	// Quality (issue 18): laboratory results, evidence files, consignments.
	pages.POST("/lots/:code/lab-results", bo.AddLabResult) // backoffice.LabResultRoute: its own body limit
	pages.GET("/lots/:code/lab-results/:id/report", bo.LabReport)
	pages.POST("/audit/:coop/evidence", bo.StartEvidence)
	pages.GET("/audit/:coop/evidence/:id/file", bo.EvidenceFile)
	pages.GET("/coop/:coop/consignments", bo.ConsignmentsPage)
	pages.POST("/coop/:coop/consignments", bo.ManagesCoop, bo.CreateConsignment)
	pages.GET("/coop/:coop/consignments/:id", bo.ConsignmentPage)
	pages.POST("/coop/:coop/consignments/:id/coi", bo.ManagesCoop, bo.SetCOINumber)
	pages.GET("/coop/:coop/consignments/:id/sheet.csv", bo.ConsignmentSheet("csv"))
	pages.GET("/coop/:coop/consignments/:id/sheet.pdf", bo.ConsignmentSheet("pdf"))
	return r
}

// answerByPath decides how errors are answered before any group's
// middleware runs (an oversized body is refused first): JSON under /api/,
// pages elsewhere. The groups below say it again for their routes.
func answerByPath(c *gin.Context) {
	if strings.HasPrefix(c.Request.URL.Path, "/api/") {
		page.AnswerAs(c, page.JSONAnswers)
	}
	c.Next()
}

var errNoEndpoint = problem.New(problem.NotFound, "no such endpoint")

// notFound answers a path no route has: JSON under /api/, a page in the
// visitor's language elsewhere.
func (s *Server) notFound(c *gin.Context) {
	if strings.HasPrefix(c.Request.URL.Path, "/api/") {
		page.Fail(c, errNoEndpoint)
		return
	}
	// A compressed GS1 Digital Link (issue 13) has no fixed path: it is
	// answered as a public trace page, as its uncompressed form is.
	if m := c.Request.Method; (m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions) && s.trace.Uncompress(c) {
		page.AnswerAs(c, page.PublicPages)
		s.languageIn(c, groupTrace)
		if !s.admit(c, s.reads) { // a trace page read like the others
			return
		}
		s.trace.Compressed(c)
		return
	}
	// Another path under /01/ is a Digital Link this resolver does not
	// hold (GTIN alone: 404) or not a Digital Link at all (400), as the
	// resolver standard asks; not a generic 404.
	if m := c.Request.Method; (m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions) && strings.HasPrefix(c.Request.URL.Path, "/01/") {
		page.AnswerAs(c, page.PublicPages)
		s.languageIn(c, groupTrace)
		s.trace.Unrouted(c)
		return
	}
	s.pageAuth(c)
	s.language(c)
	page.AnswerAs(c, page.AppPages)
	page.Fail(c, problem.New(problem.NotFound, "page not found"))
}

// Route is a method and path the server answers, and the name of the
// method that answers it ("GetLot"; the OpenAPI document's operationId
// starts with it).
type Route struct{ Method, Path, Handler string }

// Routes lists the routes of a handler made by New (for documentation
// checks and the authorization matrix); nil for any other handler.
func Routes(h http.Handler) []Route {
	s, ok := h.(*Server)
	if !ok {
		return nil
	}
	var out []Route
	for _, r := range s.engine.Routes() {
		name := r.Handler[strings.LastIndex(r.Handler, ".")+1:]
		out = append(out, Route{Method: r.Method, Path: r.Path, Handler: strings.TrimSuffix(name, "-fm")})
	}
	return out
}
