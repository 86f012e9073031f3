package web

import (
	"container/list"
	"math"
	"net/http"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/internal/problem"
	"github.com/terroir-coop/terroir/web/accounts"
	"github.com/terroir-coop/terroir/web/api"
	"github.com/terroir-coop/terroir/web/page"
)

// Bounded work per request (issue 14): how many requests each route group
// works on at once, how fast one address may read public pages or write
// anonymously, and how large a body each route takes. Every limit is here,
// with its default; web.Config changes them.

// Concurrency caps the requests in progress per route group. A request
// over its group's cap is answered 503 with Retry-After at once, never
// queued: under overload the server sheds what it cannot do instead of
// holding connections (and their bodies) in memory. Zero: the default,
// 64 × GOMAXPROCS per group (at least 256: a customer's checks of
// concurrency send a hundred orders at once, and bodies are small). /healthz, /readyz, /metrics
// and static files belong to no group and are never refused.
type Concurrency struct {
	Public int // trace pages, the resolver, the catalogue, photos
	API    int // /api/v1
	Pages  int // the pages with a session: back-office, cart, checkout, login
}

// RateLimit is a token bucket per client address: Burst requests at once,
// then PerMinute a minute. Zero fields take the defaults of RateLimits.
type RateLimit struct {
	Burst     int
	PerMinute int
}

// RateLimits limit anonymous traffic per address (c.ClientIP(): the
// connection's, or X-Forwarded-For from Config.TrustedProxies). A signed-in
// user (session or bearer token) is never limited by them.
type RateLimits struct {
	// Reads: the public trace pages (and their JSON) and catalogues. A
	// phone scanning a few jars, or a shop's customers on one NAT address
	// browsing, stays far below; a scraper at 1000 a minute does not.
	Reads RateLimit // default: 600 at once, then 600 a minute
	// Writes: anonymous orders (POST /api/v1/orders), the cart forms and
	// checkout.
	Writes RateLimit // default: 120 at once, then 120 a minute
	// Addresses is how many addresses are tracked per limiter; past it the
	// least recently seen is forgotten (it starts again with a full
	// bucket). Default 10,000: memory stays bounded under address rotation.
	Addresses int
	// Off disables the limiters (load tests of the services themselves).
	Off bool
}

// Body limits by kind of route: a JSON API write (an order, a product, a
// receipt) and a storefront form (cart, checkout) are a few kB; 64 KB
// leaves them room. Photo, import and lab-report uploads keep their own
// larger limits (limitBody); the rest the Config.BodyLimit (1 MiB).
const (
	DefaultJSONBodyLimit = 64 << 10
	DefaultFormBodyLimit = 64 << 10
)

// Defaults of the limits above.
var (
	defaultReads  = RateLimit{Burst: 600, PerMinute: 600}
	defaultWrites = RateLimit{Burst: 120, PerMinute: 120}
)

const defaultTrackedAddresses = 10_000

func (c *Concurrency) withDefaults() {
	n := max(256, 64*runtime.GOMAXPROCS(0))
	if c.Public <= 0 {
		c.Public = n
	}
	if c.API <= 0 {
		c.API = n
	}
	if c.Pages <= 0 {
		c.Pages = n
	}
}

func (r *RateLimits) withDefaults() {
	fill := func(l *RateLimit, d RateLimit) {
		if l.Burst <= 0 {
			l.Burst = d.Burst
		}
		if l.PerMinute <= 0 {
			l.PerMinute = d.PerMinute
		}
	}
	fill(&r.Reads, defaultReads)
	fill(&r.Writes, defaultWrites)
	if r.Addresses <= 0 {
		r.Addresses = defaultTrackedAddresses
	}
}

// errBusy is the answer of a group at its cap.
var errBusy = problem.New(problem.Unavailable, "the server is busy; try again in a few seconds")

// shed admits a request while its group has fewer than n in progress and
// answers 503 + Retry-After otherwise.
func (s *Server) shed(n int) gin.HandlerFunc {
	slots := make(chan struct{}, n)
	return func(c *gin.Context) {
		select {
		case slots <- struct{}{}:
		default:
			c.Header("Retry-After", "1")
			page.Fail(c, errBusy)
			return
		}
		defer func() { <-slots }()
		c.Next()
	}
}

// throttle limits anonymous requests per address with l. The session is
// resolved only for an address over its limit, so ordinary traffic pays
// nothing for the exemption of signed-in users.
func (s *Server) throttle(l *limiter) gin.HandlerFunc {
	return func(c *gin.Context) {
		if s.admit(c, l) {
			c.Next()
		}
	}
}

// admit reports whether l lets the request through, and answers 429 +
// Retry-After when it does not.
func (s *Server) admit(c *gin.Context, l *limiter) bool {
	if l == nil {
		return true
	}
	wait, ok := l.take(c.ClientIP())
	if ok || s.signedIn(c) {
		return true
	}
	secs := int(math.Ceil(wait.Seconds()))
	c.Header("Retry-After", strconv.Itoa(secs))
	page.Fail(c, problem.New(problem.TooManyRequests, "too many requests from your address; wait %d seconds and try again", secs))
	return false
}

// signedIn reports whether the request comes from a signed-in user: the
// actor the group's authentication set, or, on the public pages that read
// no session, a valid session cookie.
func (s *Server) signedIn(c *gin.Context) bool {
	if page.Actor(c).UserID != "" {
		return true
	}
	secret, err := c.Cookie(sessionCookie)
	if err != nil || secret == "" {
		return false
	}
	_, _, err = s.deps.Accounts.Resolve(c.Request.Context(), secret, accounts.KindSession)
	return err == nil
}

// limiter is a token bucket per key, in memory, for at most size keys
// (least recently seen forgotten first).
type limiter struct {
	mu    sync.Mutex
	burst float64
	rate  float64 // tokens a second
	size  int
	now   func() time.Time
	keys  map[string]*list.Element
	order *list.List // front: most recently seen
}

type bucket struct {
	key    string
	tokens float64
	at     time.Time
}

func newLimiter(l RateLimit, size int, now func() time.Time) *limiter {
	return &limiter{burst: float64(l.Burst), rate: float64(l.PerMinute) / 60, size: size, now: now,
		keys: map[string]*list.Element{}, order: list.New()}
}

// take spends a token of key's bucket; when it has none, it reports how
// long until it has one.
func (l *limiter) take(key string) (time.Duration, bool) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.keys[key]
	if !ok {
		if l.order.Len() >= l.size {
			old := l.order.Back()
			delete(l.keys, old.Value.(*bucket).key)
			l.order.Remove(old)
		}
		e = l.order.PushFront(&bucket{key: key, tokens: l.burst, at: now})
		l.keys[key] = e
	} else {
		l.order.MoveToFront(e)
	}
	b := e.Value.(*bucket)
	if d := now.Sub(b.at); d > 0 {
		b.tokens = min(l.burst, b.tokens+d.Seconds()*l.rate)
		b.at = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return 0, true
	}
	return time.Duration((1 - b.tokens) / l.rate * float64(time.Second)), false
}

// tracked is how many keys the limiter holds.
func (l *limiter) tracked() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.order.Len()
}

// bodyLimitOf is the body limit of a route by kind, before the uploads'
// own larger limits: 64 KB for a JSON API write and a storefront form,
// Config.BodyLimit otherwise (imports of harvests, counts of a whole shop,
// Stripe's events, the back-office's forms).
func (s *Server) bodyLimitOf(c *gin.Context) int64 {
	route := c.FullPath()
	if largeBodies[route] {
		return s.cfg.BodyLimit
	}
	switch m := c.Request.Method; {
	case m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions:
		return s.cfg.BodyLimit
	case len(route) > len("/api/") && route[:len("/api/")] == "/api/":
		return min(s.cfg.BodyLimit, s.cfg.JSONBodyLimit)
	case storefrontForms[route]:
		return min(s.cfg.BodyLimit, s.cfg.FormBodyLimit)
	}
	return s.cfg.BodyLimit
}

// largeBodies are the API writes that legitimately take more than a few
// kB and keep Config.BodyLimit.
var largeBodies = map[string]bool{
	"/api/v1/cooperatives/:coop/harvests/import": true, // a season's harvests
	"/api/v1/shops/:shop/counts":                 true, // a whole shop's count
	"/api/v1/stripe/webhook":                     true, // Stripe's events, as Stripe sends them
	api.ParcelRoute:                              true, // a walked outline: thousands of GPS points
}

// storefrontForms are the anonymous forms of the shop.
var storefrontForms = map[string]bool{
	"/cart/add": true, "/cart/update": true, "/cart/remove": true, "/checkout": true,
}
