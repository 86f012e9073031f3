package page

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/web/i18n"
)

// A flash message says what a form just did, on the page it redirects to.
// It travels in a cookie as a catalogue key and its counts, signed by the
// server: no one can put their own text on a page through a link, and the
// page says it in its reader's language.
const flashCookie = "terroir_flash"

type flash struct {
	Key    string  `json:"k"`
	Counts []int64 `json:"n,omitempty"`
}

// Redirect sends the visitor to path after a form succeeded, with the
// flash message of key (a catalogue key; counts are its arguments).
func (r *Renderer) Redirect(c *gin.Context, path, key string, counts ...int64) {
	payload, _ := json.Marshal(flash{Key: key, Counts: counts})
	v := base64.RawURLEncoding.EncodeToString(payload) + "." + base64.RawURLEncoding.EncodeToString(r.sign(payload))
	r.SetCookie(c, flashCookie, v, 120)
	c.Redirect(http.StatusSeeOther, path)
}

func (r *Renderer) sign(payload []byte) []byte {
	m := hmac.New(sha256.New, r.flashKey)
	m.Write([]byte("terroir flash\x00"))
	m.Write(payload)
	return m.Sum(nil)
}

// takeFlash reads the flash cookie, if any, and clears it. A cookie that
// does not verify, or names no key of the catalogue, shows nothing.
func (r *Renderer) takeFlash(c *gin.Context, l *i18n.Locale) string {
	v, err := c.Cookie(flashCookie)
	if err != nil || v == "" {
		return ""
	}
	r.SetCookie(c, flashCookie, "", -1)
	enc, sig, ok := strings.Cut(v, ".")
	if !ok {
		return ""
	}
	payload, err1 := base64.RawURLEncoding.DecodeString(enc)
	mac, err2 := base64.RawURLEncoding.DecodeString(sig)
	if err1 != nil || err2 != nil || !hmac.Equal(mac, r.sign(payload)) {
		return ""
	}
	var f flash
	if json.Unmarshal(payload, &f) != nil || !l.Has(f.Key) || len(f.Counts) > 4 {
		return ""
	}
	args := make([]any, len(f.Counts))
	for i, n := range f.Counts {
		args[i] = n
	}
	return l.T(f.Key, args...)
}

// SetCookie sets a site cookie: HttpOnly, SameSite=Lax, Secure over HTTPS.
func (r *Renderer) SetCookie(c *gin.Context, name, value string, maxAge int) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name: name, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: r.secure, SameSite: http.SameSiteLaxMode,
	})
}
