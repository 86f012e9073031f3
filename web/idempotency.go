package web

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/web/page"
	"github.com/terroir-coop/terroir/web/replay"
)

// capture keeps a copy of what a handler writes.
type capture struct {
	gin.ResponseWriter
	body bytes.Buffer
}

func (w *capture) Write(b []byte) (int, error) {
	w.body.Write(b)
	return w.ResponseWriter.Write(b)
}

func (w *capture) WriteString(s string) (int, error) {
	w.body.WriteString(s)
	return w.ResponseWriter.WriteString(s)
}

// ownIdempotency are the creating routes that handle Idempotency-Key
// themselves (an order's replay must also reopen its payment page) or take
// no such key (credentials, Stripe's own event IDs).
var ownIdempotency = map[string]bool{
	"/api/v1/orders":         true,
	"/api/v1/auth/token":     true,
	"/api/v1/stripe/webhook": true,
}

// replayMaxBytes is the largest answer kept for a replay: creating answers
// are a few kilobytes; a larger one is answered, not kept.
const replayMaxBytes = 64 << 10

// idempotent replays the first answer to a POST or PUT sent again with the
// same Idempotency-Key and body (API.md): the work is done once.
//
// What is kept is bounded by who asks and what was done (issue 14): keys
// are per principal (the user; anonymous requests take no key here — the
// anonymous creating route, POST /orders, keeps its own under the order's
// token), and only an accepted request's answer (2xx, at most
// replayMaxBytes) is kept, for the replay service's lifetime, after which
// the sweeper deletes it. A refused request changed nothing, so sending it
// again simply gets the same refusal again; nobody can fill the disk with
// 401s.
func (s *Server) idempotent(c *gin.Context) {
	key := c.GetHeader("Idempotency-Key")
	if key == "" || (c.Request.Method != http.MethodPost && c.Request.Method != http.MethodPut) || ownIdempotency[c.FullPath()] || s.deps.Replay == nil ||
		page.Actor(c).UserID == "" {
		c.Next()
		return
	}
	body, err := io.ReadAll(c.Request.Body)
	if err != nil {
		page.Fail(c, err)
		return
	}
	c.Request.Body = io.NopCloser(bytes.NewReader(body))
	scope := page.Actor(c).UserID + " " + c.Request.Method + " " + c.Request.URL.Path
	ctx := c.Request.Context()
	answer, err := s.deps.Replay.Begin(ctx, scope, key, body)
	if err != nil {
		page.Fail(c, err)
		return
	}
	if answer != nil {
		c.Header("Idempotent-Replayed", "true")
		c.Data(answer.Status, answer.ContentType, answer.Body)
		c.Abort()
		return
	}
	w := &capture{ResponseWriter: c.Writer}
	c.Writer = w
	c.Next()
	status := w.Status()
	done := context.WithoutCancel(ctx)
	if status < 200 || status >= 300 || w.body.Len() > replayMaxBytes {
		_ = s.deps.Replay.Abandon(done, scope, key)
		return
	}
	ct := w.Header().Get("Content-Type")
	if !strings.HasPrefix(ct, "application/json") {
		ct = "application/json; charset=utf-8"
	}
	_ = s.deps.Replay.Finish(done, scope, key, replayAnswer(status, ct, w.body.Bytes()))
}

func replayAnswer(status int, ct string, body []byte) replay.Answer {
	return replay.Answer{Status: status, ContentType: ct, Body: body}
}
