package web_test

import (
	"bytes"
	"html"
	"io"
	"mime/multipart"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/web/webtest"
)

// postFile sends the import form with a file (or none, when name is "").
func (b *browser) postFile(path string, fields map[string]string, name string, content []byte) (*http.Response, string) {
	b.t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, v := range fields {
		_ = w.WriteField(k, v)
	}
	if name != "" {
		fw, err := w.CreateFormFile("file", name)
		if err != nil {
			b.t.Fatal(err)
		}
		_, _ = fw.Write(content)
	}
	_ = w.Close()
	resp, err := b.c.Post(b.e.URL(path), w.FormDataContentType(), &buf)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

var hiddenInput = regexp.MustCompile(`<input type="hidden" name="(\w+)" value="([^"]*)">`)

// confirmation is the hidden fields of the preview's confirmation form.
func confirmation(page string) map[string]string {
	i := strings.Index(page, `name="confirm"`)
	if i < 0 {
		return nil
	}
	start := strings.LastIndex(page[:i], "<form")
	end := strings.Index(page[i:], "</form>")
	out := map[string]string{}
	for _, m := range hiddenInput.FindAllStringSubmatch(page[start:i+end], -1) {
		out[m[1]] = html.UnescapeString(m[2])
	}
	return out
}

type importPages struct {
	e                       *webtest.Env
	manager, auditor, other *browser
}

func newImportPages(t *testing.T) importPages {
	e := webtest.New(t)
	e.Cooperative("SIROUA", "saffron")
	e.Cooperative("TIZNIT", "argan")
	e.User("siroua@coop.ma", access.CoopManager, "SIROUA")
	e.User("audit@onssa.ma", access.Auditor, "", "SIROUA")
	e.User("manager@tiznit.ma", access.CoopManager, "TIZNIT")
	p := importPages{e: e, manager: newBrowser(t, e), auditor: newBrowser(t, e), other: newBrowser(t, e)}
	p.manager.loginAs("siroua@coop.ma")
	p.auditor.loginAs("audit@onssa.ma")
	p.other.loginAs("manager@tiznit.ma")
	return p
}

// preview sends a file for its preview from the import page.
func (p importPages) preview(t *testing.T, b *browser, lang, kind, name string, content []byte) (*http.Response, string) {
	t.Helper()
	_, form := b.get("/coop/SIROUA/import?lang=" + lang)
	return b.postFile("/coop/SIROUA/import", map[string]string{"csrf": csrfOf(t, form), "kind": kind}, name, content)
}

func TestImportPagePreviewsThenImports(t *testing.T) {
	p := newImportPages(t)
	resp, form := p.manager.get("/coop/SIROUA/import")
	if resp.StatusCode != 200 {
		t.Fatalf("import page: %d", resp.StatusCode)
	}
	for _, want := range []string{"Importer un registre", `value="members"`, `value="parcels"`, `value="harvests"`, `href="/coop/SIROUA/import"`} {
		if !strings.Contains(form, want) {
			t.Errorf("import page lacks %q", want)
		}
	}
	if strings.Contains(form, `value="certifications"`) {
		t.Error("a manager is offered the certificates' import, which is the admin's")
	}
	if _, members := p.manager.get("/coop/SIROUA"); !strings.Contains(members, `href="/coop/SIROUA/import"`) {
		t.Error("the records' navigation has no link to the import")
	}

	resp, page := p.preview(t, p.manager, "fr", "members", "adhérents.csv", []byte(frenchMembersCSV))
	if resp.StatusCode != 200 {
		t.Fatalf("preview: %d", resp.StatusCode)
	}
	for _, want := range []string{"CSV · séparateur « ; » · titres en ligne 3", "3 à créer", "0 inchangées", "N° adhérent", "Comprise comme",
		"Genre", "Douar", "ignorée", "Ligne 4", "Code : A-001", "Fatima", "Importer ces lignes"} {
		if !strings.Contains(html.UnescapeString(page), want) {
			t.Errorf("preview lacks %q", want)
		}
	}
	if n := p.e.Count("members"); n != 0 {
		t.Fatalf("the preview wrote %d members", n)
	}
	fields := confirmation(page)
	if fields["data"] == "" || fields["kind"] != "members" || fields["filename"] != "adhérents.csv" {
		t.Fatalf("confirmation form: %v", fields)
	}
	resp, _ = p.manager.postFile("/coop/SIROUA/import", fields, "", nil)
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/coop/SIROUA" || !flashed(resp) {
		t.Fatalf("confirm: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if n := p.e.Count("members"); n != 3 {
		t.Fatalf("%d members after the import", n)
	}
	_, members := p.manager.get("/coop/SIROUA")
	if !strings.Contains(members, "Import terminé : 3 créés, 0 complétés, 0 inchangés.") || !strings.Contains(members, "Fatima Aït Brahim") {
		t.Errorf("members page after the import lacks the flash or the members")
	}

	// The same file again: everything unchanged, nothing written.
	_, page = p.preview(t, p.manager, "fr", "members", "adhérents.csv", []byte(frenchMembersCSV))
	if !strings.Contains(page, "0 à créer") || !strings.Contains(page, "3 inchangées") {
		t.Fatalf("second preview does not say unchanged")
	}
	resp, _ = p.manager.postFile("/coop/SIROUA/import", confirmation(page), "", nil)
	if resp.StatusCode != 303 || p.e.Count("members") != 3 {
		t.Fatalf("second import: %d, %d members", resp.StatusCode, p.e.Count("members"))
	}

	// Parcels from a workbook, to their page.
	_, page = p.preview(t, p.manager, "fr", "parcels", "parcelles.xlsx", parcelsWorkbook(t))
	if !strings.Contains(page, "XLSX · feuille « Parcelles »") || !strings.Contains(page, "3 à créer") {
		t.Fatalf("parcels preview: %s", page)
	}
	resp, _ = p.manager.postFile("/coop/SIROUA/import", confirmation(page), "", nil)
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/coop/SIROUA/parcels" || p.e.Count("parcels") != 3 {
		t.Fatalf("parcels import: %d %s, %d parcels", resp.StatusCode, resp.Header.Get("Location"), p.e.Count("parcels"))
	}
}

func TestImportPageNamesRefusedRowsInThePagesLanguage(t *testing.T) {
	p := newImportPages(t)
	file := []byte("code;nom;genre;village\n" +
		"B-1;Itto Amellal;F;Tagmoute\n" +
		"B-2;Mina Aït Said;X;Tasrirte\n" +
		"B-3;Hadda Ait Hammou;F;Timlilt\n")
	for _, tt := range []struct{ lang, dir, reason, refused string }{
		{"fr", "ltr", `Genre (colonne C) : "X" n'est pas un genre : écrivez F ou H (femme, homme)`, "Rien ne sera importé"},
		{"ar", "rtl", `الجنس (العمود C): "X" ليس جنسًا: اكتبوا F أو H (امرأة، رجل)`, "لن يُستورد أي شيء"},
	} {
		t.Run(tt.lang, func(t *testing.T) {
			resp, page := p.preview(t, p.manager, tt.lang, "members", "m.csv", file)
			page = html.UnescapeString(page)
			if resp.StatusCode != 422 {
				t.Fatalf("preview of a bad file: %d", resp.StatusCode)
			}
			for _, want := range []string{`dir="` + tt.dir + `"`, tt.reason, tt.refused, `<tr class="refused">`} {
				if !strings.Contains(page, want) {
					t.Errorf("page lacks %q", want)
				}
			}
			if strings.Contains(page, "is not a gender") {
				t.Error("the reason is in English")
			}
			if confirmation(page) != nil {
				t.Error("a refused file can be confirmed")
			}
		})
	}
	// A photo sent as a register: the form says so, in French.
	resp, page := p.preview(t, p.manager, "fr", "members", "photo.csv", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"))
	if resp.StatusCode != 400 || !strings.Contains(html.UnescapeString(page), "Fichier : est une image") {
		t.Fatalf("photo: %d %s", resp.StatusCode, page)
	}
	// No file at all.
	_, form := p.manager.get("/coop/SIROUA/import?lang=fr")
	resp, page = p.manager.postFile("/coop/SIROUA/import", map[string]string{"csrf": csrfOf(t, form), "kind": "members"}, "", nil)
	if resp.StatusCode != 400 || !strings.Contains(html.UnescapeString(page), "Fichier : choisissez un fichier à importer") {
		t.Fatalf("no file: %d", resp.StatusCode)
	}
	if n := p.e.Count("members"); n != 0 {
		t.Fatalf("refusals wrote %d members", n)
	}
}

func TestImportPageIsTheManagers(t *testing.T) {
	p := newImportPages(t)
	for name, b := range map[string]*browser{"auditor": p.auditor, "other cooperative's manager": p.other} {
		if resp, _ := b.get("/coop/SIROUA/import"); resp.StatusCode != 403 {
			t.Errorf("%s GET: %d", name, resp.StatusCode)
		}
		_, home := b.get("/")
		resp, _ := b.postFile("/coop/SIROUA/import", map[string]string{"csrf": csrfOf(t, home), "kind": "members"}, "m.csv", []byte(frenchMembersCSV))
		if resp.StatusCode != 403 {
			t.Errorf("%s POST: %d", name, resp.StatusCode)
		}
	}
	if _, page := p.auditor.get("/coop/SIROUA"); strings.Contains(page, `href="/coop/SIROUA/import"`) {
		t.Error("the auditor is shown the import")
	}
	if n := p.e.Count("members"); n != 0 {
		t.Fatalf("%d members", n)
	}
}
