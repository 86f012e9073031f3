// Package web wires Terroir's HTTP face and owns what every request goes
// through: the middleware (request IDs, logs and metrics, panics, security
// headers, body limits), authentication (bearer tokens for the API, session
// cookies for pages), CSRF, the page language, Idempotency-Key replays,
// and the one URL table (routes.go). It holds no page, no API resource and
// no business rule: those live in the audience packages it wires.
//
// Layout of web/ (README "Layout" has the whole tree and the import rules):
//
//	web/trace       the public trace page, GS1 Digital Link resolver, linksets, scans
//	web/storefront  the public catalogue, product pages, cart, checkout, order page
//	web/backoffice  cooperative records, audit, till, shop admin, platform fulfilment, settlement, admin
//	web/api         the JSON API, one file per resource, and openapi.json
//	web/labels      QR images and label sheets (no gin; the only importer of go-qrcode)
//	web/i18n        message catalogues on golang.org/x/text, language negotiation, formats
//	web/page        what the audiences share to answer: actor, language, the error path, rendering
//	web/catalogcache  each channel's catalogue in memory
//	web/accounts, web/replay, web/webtest
//
// Decisions recorded here:
//   - One URL table. Issue 11 asked both for one file showing every URL and
//     for a Register(r, …) per audience package; both cannot hold, and the
//     table won: the audience packages expose handlers (New(Deps)
//     *Handlers), and routes.go binds every method and path with the
//     middleware of its group. The authorization matrix and the OpenAPI
//     coverage test read the routes from the router, so they see every
//     route.
//   - Each audience package declares the small interfaces it consumes; this
//     package is the only one that knows the concrete services (Deps).
//   - One error path: handlers pass every error to page.Fail, which answers
//     from the one status table (web/page/errors.go) — API.md's JSON on the
//     API group, a page in the reader's language elsewhere, a login
//     redirect for a visitor who must log in. Domain errors are
//     *problem.Error; anything else is a 500 whose body carries only the
//     request ID.
//   - Caches follow the services' announcements, subscribed once in New:
//     the trace cache to lot and certificate changes, the catalogue cache
//     to stock, product and certificate changes. No handler touches a
//     cache's freshness.
//   - The API authenticates with bearer tokens, pages with a session cookie
//     (HttpOnly, SameSite=Lax, Secure when TERROIR_PUBLIC_URL is https) and
//     a CSRF token in every form, checked before any handler runs: the
//     session's secret once logged in, a double-submit cookie before (the
//     login form).
//   - Request bodies are limited (1 MiB by default → 413) and JSON is
//     decoded strictly (web/api/decode.go): unknown fields, wrong types and
//     trailing data → 400 naming the field, so an operator smuggled as
//     {"$gt": ""} never reaches a query.
//   - Access rules live in the domain services (internal/access); handlers
//     pass the acting user along, and pages only hide what a visitor cannot
//     use.
package web
