// Package trace is what a consumer's phone opens: the public trace page of
// a lot or unit (/t/{lot} and the GS1 Digital Link /01/{gtin}/10/{lot}
// [/21/{serial}]), its JSON twin (/api/v1/trace/{code}), the GS1 resolver
// description and linksets, and the counting of genuine scans.
//
// A scan must cost a signature check, a map lookup and a counter increment:
// the trace record of a lot and the pages rendered from it are kept in
// memory (cache.go) within a byte budget, least recently scanned first out,
// gzipped, filled once per lot at a time and refreshed ahead of expiry; a
// unit past the cloned-label threshold is served from the cache too, its
// warning put in at serve time. Scans are counted in memory and flushed by
// the traceability.ScanBuffer. The cache follows the domain's
// announcements — web.New subscribes Forget to traceability's OnLotChange,
// ForgetAll to OnCertificationChange and OnParcelChange, ProductChanged to
// catalog's OnChange — so this process's changes show at once; another
// instance's within the TTL. No handler of any package invalidates it.
//
// The Digital Link paths answer as a GS1-Conformant Resolver 1.2
// (resolver.go): GET, HEAD and OPTIONS with CORS from any origin, a Link
// header to the item's linkset, the RFC 9264 linkset on linkType=linkset
// (or all) and on Accept: application/linkset+json, a 307 to the link of a
// requested linkType (404 for one the item lacks), and compressed Digital
// Links decoded in place (compressed.go). The default link is the trace
// page itself, so a plain scan is answered, not redirected.
//
// The origin map (map.go) is an inline SVG of the parcels' own outlines and
// points: the page makes no request to another host unless an operator
// configures a tile server (web.Config.MapTiles, TERROIR_MAP_TILES).
//
// These routes sit outside the session middleware: a scan reads no cookie
// but the language one and touches no session.
package trace
