// Package page is what every handler of the web audiences (web/trace,
// web/storefront, web/backoffice, web/api) shares to answer a request the
// same way:
//
//   - who is asking: Actor and Locale, put in the request by web's
//     authentication and language middleware;
//   - the one error path: Fail renders any error from the one status table
//     (errors.go) — as the JSON error shape of API.md on the API group, as
//     an HTML page in the reader's language elsewhere, a login redirect for
//     a visitor who must log in; a 5xx says only "internal error" and the
//     request ID;
//   - the HTML pages: the Renderer parses the layouts, the partials and
//     every audience's page files once at start; a page's view is a typed
//     struct that embeds Page (language, navigation, CSRF token, flash
//     message, the refused form);
//   - flash messages, which travel in a signed cookie as a catalogue key
//     and counts, never as text in the URL.
//
// It sits below the audience packages and above web/i18n: the audiences
// cannot import web (web wires them), so the status table and the renderer
// live here. There is no package state.
package page
