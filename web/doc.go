// Package web is Terroir's HTTP face: the gin router, the JSON API of
// ../shared/API.md, the HTML pages (embedded templates and static files,
// French by default, English and right-to-left Arabic), authentication,
// and the operational endpoints (/healthz, /readyz, /metrics).
//
// Decisions recorded here:
//   - One place maps errors to statuses: errors.go. Handlers pass every error
//     to fail(); domain errors are *problem.Error, anything else is a 500
//     whose body carries only the request ID.
//   - The API authenticates with bearer tokens, pages with a session cookie
//     (HttpOnly, SameSite=Lax, Secure when TERROIR_PUBLIC_URL is https) and a
//     CSRF token in every form: the session's secret once logged in, a
//     double-submit cookie before (the login form).
//   - Request bodies are limited (1 MiB by default → 413) and JSON is decoded
//     strictly: unknown fields, wrong types and trailing data → 400 naming the
//     field, so an operator smuggled as {"$gt": ""} never reaches a query.
//   - Access rules live in the domain services (internal/access); handlers
//     only pass the acting user along.
package web
