package backoffice

import (
	"encoding/json"
	"html/template"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/traceability"
	"github.com/terroir-coop/terroir/web/page"
)

// The offline harvest page (issue 19 item 3): a form for recording
// harvests where the signal comes and goes. web/static/offline.js keeps
// each harvest in the phone's IndexedDB under an idempotency key it makes,
// shows it as waiting, and sends it to RecordOfflineHarvest when the
// connection returns (or on demand); a resend answers the first answer
// again (web's Idempotency-Key replay), so a harvest sent twice is stored
// once. /harvest-sw.js caches the page and its script, so the page opens
// with no connection once visited; the page carries the cooperative's
// parcels and members, refreshed whenever it is loaded online.

// OfflineCache is the name of the service worker's cache (the test reads
// it).
const OfflineCache = "terroir-harvests-v1"

type offlineParcel struct {
	ID     string `json:"id"`
	Label  string `json:"label"`
	Member string `json:"member"`
	Crop   string `json:"crop"`
}

// offlineData is what the script reads from the page: where to send, the
// form's token, the parcels and the messages it writes, in the page's
// language.
type offlineData struct {
	Coop    string            `json:"coop"`
	Outbox  string            `json:"outbox"`
	CSRF    string            `json:"csrf"`
	Cache   string            `json:"cache"`
	Parcels []offlineParcel   `json:"parcels"`
	Text    map[string]string `json:"text"`
}

type offlineView struct {
	page.Page
	coopTop
	Parcels []parcelOption
	Members []option
	Today   string
	Data    template.JS
}

// offlineTexts are the script's messages; offlineCounts those with a
// number.
var offlineCounts = []string{"off_waiting", "off_refused", "off_sent"}

// offlineTexts are the script's messages without a number.
var offlineTexts = []string{"off_fix", "off_remove", "off_offline", "off_online",
	"off_login", "off_saved", "off_status_waiting", "off_status_refused"}

// OfflineHarvestsPage answers GET /coop/{coop}/harvests/offline.
func (h *Handlers) OfflineHarvestsPage(c *gin.Context) {
	ctx, actor, l := c.Request.Context(), page.Actor(c), page.Locale(c)
	top, err := h.coopTop(c, secHarvests)
	if err != nil {
		page.Fail(c, err)
		return
	}
	code := top.Cooperative.Code
	members, memberByID, err := h.membersByID(ctx, actor, code)
	if err != nil {
		page.Fail(c, err)
		return
	}
	parcels, _, err := h.parcelsByID(ctx, actor, code)
	if err != nil {
		page.Fail(c, err)
		return
	}
	v := &offlineView{Page: h.d.Pages.Page(c, l.T("off_title")), coopTop: top, Today: h.d.Now().Format("2006-01-02")}
	data := offlineData{Coop: code, Outbox: coopPath(code, "harvests/outbox"), CSRF: v.CSRF, Cache: OfflineCache, Text: map[string]string{}}
	for _, p := range parcels {
		label := p.Name + " · " + memberByID[p.Member].Name
		v.Parcels = append(v.Parcels, parcelOption{ID: p.ID, Label: label})
		data.Parcels = append(data.Parcels, offlineParcel{ID: p.ID, Label: label, Member: p.Member, Crop: p.Crop})
	}
	for _, m := range members {
		v.Members = append(v.Members, option{m.ID, m.Name})
	}
	for _, k := range offlineTexts {
		data.Text[k] = l.T(k)
	}
	for _, k := range offlineCounts { // the script puts the number for {n}
		data.Text[k] = l.T(k, "{n}")
	}
	b, err := json.Marshal(data)
	if err != nil {
		page.Fail(c, err)
		return
	}
	v.Data = template.JS(b) // JSON: html/template escapes it in the script element
	h.d.Pages.Render(c, http.StatusOK, "backoffice/offline", v)
}

// offlineAnswer is the outbox's answer to one record: the harvest stored,
// or the refusal in the page's language.
type offlineAnswer struct {
	ID    string        `json:"id,omitempty"`
	Error *offlineError `json:"error,omitempty"`
}

type offlineError struct {
	Code    string `json:"code"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

// RecordOfflineHarvest answers POST /coop/{coop}/harvests/outbox: one
// harvest of the offline page's outbox (a form post with the session's
// token, and an Idempotency-Key), answered in JSON: 201 with its ID, or
// the status of its refusal with the reason in the page's language.
func (h *Handlers) RecordOfflineHarvest(c *gin.Context) {
	l := page.Locale(c)
	amount, err := page.WholeNumber("quantity", c.PostForm("amount"))
	if err == nil {
		var hv traceability.Harvest
		hv, err = h.d.Records.AddHarvest(c.Request.Context(), page.Actor(c), c.Param("coop"), traceability.NewHarvest{
			Parcel: c.PostForm("parcel"), Member: c.PostForm("member"), Date: c.PostForm("date"), Crop: c.PostForm("crop"),
			Quantity: traceability.Quantity{Amount: amount, Unit: c.PostForm("unit")}})
		if err == nil {
			c.JSON(http.StatusCreated, offlineAnswer{ID: hv.ID})
			return
		}
	}
	pe := page.Problem(err)
	if pe == nil {
		page.Fail(c, err) // internal: logged, answered with the request ID
		return
	}
	c.JSON(page.Status(err), offlineAnswer{Error: &offlineError{Code: string(pe.Code), Field: pe.Field, Message: l.Message(pe)}})
}
