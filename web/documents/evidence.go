package documents

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/terroir-coop/terroir/traceability"
)

// EvidencePDF writes the summary of an evidence file: the cooperative and
// its members by gender, the parcels (map and table), the harvests, the
// transformations with their yields, the flags with their justifications,
// the mass balance, the certificates with their status history and the
// laboratory results with the thresholds they were graded against. It is a
// traceability.SummaryRenderer.
func EvidencePDF(w io.Writer, f traceability.EvidenceFile) error {
	d := newDoc(f.Title, "Dossier de preuves pour l'organisme de contrôle", f.GeneratedAt)
	d.pdf.AddPage()
	c := f.Cooperative
	subtitle := fmt.Sprintf("Campagne du 1er septembre %d au 31 août %d", f.Season, f.Season+1)
	if f.Lot != "" {
		subtitle = "Le lot " + f.Lot + " et tous les lots dont il est issu"
	}
	d.title(f.Title, subtitle)
	var area int64
	for _, p := range f.Parcels {
		area += p.AreaM2
	}
	var harvested int64
	for _, h := range f.Harvests {
		harvested += h.Quantity
	}
	open := 0
	for _, fl := range f.Flags {
		if fl.Justification == "" {
			open++
		}
	}
	d.pairs([][2]string{
		{"Coopérative", c.Name + " (" + c.Code + ")"},
		{"Commune, province", joinNonEmpty(", ", c.Commune, c.Province)},
		{"Groupement", c.Group},
		{"Membres", fmt.Sprintf("%d : %s, %s", len(f.Members), count(f.Women, "femme", "femmes"), count(f.Men, "homme", "hommes"))},
		{"Ayant récolté", count(f.ActiveWomen, "femme", "femmes") + ", " + count(f.ActiveMen, "homme", "hommes")},
		{"Parcelles", fmt.Sprintf("%d, %s ha au total", len(f.Parcels), hectares(area))},
		{"Récoltes", fmt.Sprintf("%d, %s", len(f.Harvests), traceability.FormatQuantity(harvested, traceability.Milligram))},
		{"Lots", strconv.Itoa(len(f.Lots))},
		{"Signalements", fmt.Sprintf("%d, dont %d sans justification", len(f.Flags), open)},
		{"Résultats de laboratoire", strconv.Itoa(len(f.LabResults))},
		{"Certificats", strconv.Itoa(len(f.Certificates))},
		{"Établi le", timeFR(f.GeneratedAt) + " par " + f.GeneratedBy},
	})
	d.note("Les fichiers lisibles par machine du même dossier (CSV, parcels.geojson, epcis.json, rapports de laboratoire) " +
		"sont listés avec leur taille et leur empreinte SHA-256 dans manifest.json et SHA256SUMS (vérifiable avec sha256sum -c).")

	d.heading("Membres", 30)
	rows := make([][]string, 0, len(f.Members))
	for _, m := range f.Members {
		rows = append(rows, []string{m.Name, fr(gendersFR, m.Gender), m.Village, m.Commune, m.Code})
	}
	d.table([]column{{"Nom", 50, "L"}, {"Genre", 12, "C"}, {"Douar", 35, "L"}, {"Commune", 35, "L"}, {"N° adhérent", 25, "L"}}, rows)

	d.heading("Parcelles", 120)
	mapH := 95.0
	y := d.pdf.GetY()
	d.drawParcelMap(margin, y, contentW, mapH, f.Parcels)
	d.pdf.SetXY(margin, y+mapH+2)
	d.note("Contours des parcelles tels qu'enregistrés (GeoJSON, WGS 84), en projection plane locale ; un point marque une parcelle " +
		"enregistrée sans contour ou trop petite à cette échelle.")
	members := map[string]string{}
	for _, m := range f.Members {
		members[m.ID] = m.Name
	}
	rows = rows[:0]
	for _, p := range f.Parcels {
		outline := "point"
		if p.Location.Type == "Polygon" {
			outline = "contour"
		}
		rows = append(rows, []string{joinNonEmpty(" ", p.Code, p.Name), members[p.Member], p.Commune,
			strconv.FormatInt(p.AreaM2, 10), hectares(p.AreaM2), fr(kindsFR, p.Crop), outline})
	}
	d.table([]column{{"Parcelle", 40, "L"}, {"Membre", 35, "L"}, {"Commune", 28, "L"}, {"Surface (m²)", 20, "R"}, {"(ha)", 14, "R"},
		{"Culture", 25, "L"}, {"Relevé", 15, "L"}}, rows)

	d.heading("Récoltes", 30)
	parcels := map[string]string{}
	for _, p := range f.Parcels {
		parcels[p.ID] = joinNonEmpty(" ", p.Code, p.Name)
	}
	rows = rows[:0]
	for _, h := range f.Harvests {
		q := traceability.FormatQuantity(h.Quantity, traceability.Milligram)
		if len(h.Corrections) > 0 {
			q += " (corrigé, saisi " + traceability.FormatQuantity(h.Corrections[0].From, traceability.Milligram) + ")"
		}
		rows = append(rows, []string{dateFR(h.Date), parcels[h.Parcel], members[h.Member], fr(kindsFR, h.Crop), q, h.Lot, h.Flag})
	}
	d.table([]column{{"Date", 19, "L"}, {"Parcelle", 28, "L"}, {"Membre", 28, "L"}, {"Culture", 18, "L"}, {"Quantité", 22, "R"},
		{"Lot", 28, "L"}, {"Signalement", 37, "L"}}, rows)

	d.heading("Transformations et rendements", 30)
	rows = rows[:0]
	for _, st := range f.Steps {
		var ins []string
		for _, in := range st.Inputs {
			ins = append(ins, in.Lot+" : "+traceability.FormatQuantity(in.Quantity, in.Unit))
		}
		for _, o := range st.Outputs {
			rows = append(rows, []string{dateFR(st.Date), fr(processesFR, st.Process), strings.Join(ins, "\n"),
				o.Lot + " (" + fr(kindsFR, o.Kind) + ")", traceability.FormatQuantity(o.Quantity, o.Unit), o.Yield, o.Typical})
		}
	}
	d.table([]column{{"Date", 19, "L"}, {"Procédé", 18, "L"}, {"Entrées", 38, "L"}, {"Sortie", 38, "L"}, {"Quantité", 18, "R"},
		{"Rendement", 19, "R"}, {"Habituel", 30, "L"}}, rows)

	d.heading("Signalements et justifications", 30)
	d.note("Un signalement relève un chiffre hors des valeurs habituelles (récolte par surface, rendement, résultat de laboratoire) ; " +
		"la coopérative doit le justifier par écrit. Les valeurs habituelles et leurs sources sont publiées sur /plausibility.")
	rows = rows[:0]
	for _, fl := range f.Flags {
		just := fl.Justification
		if just == "" {
			just = "JUSTIFICATION ATTENDUE"
		} else {
			just += " — " + fl.JustifiedBy + ", " + timeFR(fl.JustifiedAt)
		}
		rows = append(rows, []string{fl.Lot, fr(flagKindsFR, fl.Kind), timeFR(fl.RaisedAt), fl.Reason, just})
	}
	d.table([]column{{"Lot", 28, "L"}, {"Type", 17, "L"}, {"Date", 19, "L"}, {"Constat", 58, "L"}, {"Justification", 58, "L"}}, rows)

	if f.Lot == "" {
		d.heading("Bilan matière", 30)
		d.note("Par produit, dans l'unité du produit (les unités conditionnées comptent pour leur contenu net) : récolté + issu de " +
			"transformations + corrections = transformé + conditionné + en stock + pertes. « Équilibré » dit si l'identité tient exactement.")
		rows = rows[:0]
		for _, r := range f.MassBalance {
			u := r.Unit
			rows = append(rows, []string{fr(kindsFR, r.ProductKind), strconv.Itoa(r.Lots), traceability.FormatQuantity(r.Harvested, u),
				traceability.FormatQuantity(r.Produced, u), traceability.FormatQuantity(r.Corrections, u), traceability.FormatQuantity(r.Transformed, u),
				traceability.FormatQuantity(r.Packed, u), traceability.FormatQuantity(r.OnHand, u), traceability.FormatQuantity(r.Losses, u),
				percent(r.YieldPercent), yesNo(r.Reconciles()) + lotsSuffix(r.InconsistentLots)})
		}
		d.table([]column{{"Produit", 22, "L"}, {"Lots", 9, "R"}, {"Récolté", 17, "R"}, {"Issu", 16, "R"}, {"Corr.", 14, "R"},
			{"Transformé", 18, "R"}, {"Conditionné", 19, "R"}, {"En stock", 16, "R"}, {"Pertes", 13, "R"}, {"Rendement", 17, "R"},
			{"Équilibré", 19, "C"}}, rows)
	}
	d.heading("Comptes des lots", 30)
	rows = rows[:0]
	for _, a := range f.Accounts {
		u := a.Unit
		rows = append(rows, []string{a.Lot, fr(kindsFR, a.Kind), traceability.FormatQuantity(a.Created, u), traceability.FormatQuantity(a.Corrections, u),
			traceability.FormatQuantity(a.Consumed, u), traceability.FormatQuantity(a.Packed, u), traceability.FormatQuantity(a.Shipped, u),
			traceability.FormatQuantity(a.Available, u)})
	}
	d.table([]column{{"Lot", 28, "L"}, {"Produit", 26, "L"}, {"Créé", 20, "R"}, {"Corrections", 20, "R"}, {"Transformé", 20, "R"},
		{"Conditionné", 20, "R"}, {"Expédié", 18, "R"}, {"Disponible", 20, "R"}}, rows)

	d.heading("Certificats", 40)
	for _, ct := range f.Certificates {
		if d.pdf.GetY()+30 > pageH-margin {
			d.pdf.AddPage()
		}
		scope := joinNonEmpty(" ; ", strings.Join(ct.Crops, ", "), strings.Join(ct.ProductKinds, ", "))
		if scope == "" {
			scope = "tous les produits"
		}
		parcelsScope := "toutes les parcelles"
		if len(ct.Parcels) > 0 {
			parcelsScope = strconv.Itoa(len(ct.Parcels)) + " parcelles nommées"
		}
		d.pairs([][2]string{
			{ct.Scheme, "n° " + ct.Number},
			{"Organisme de contrôle", joinNonEmpty(", code ", ct.Body, ct.BodyCode)},
			{"Validité", dateFR(ct.ValidFrom) + " au " + dateFR(ct.ValidTo)},
			{"Statut au " + timeFR(f.GeneratedAt), fr(statusesFR, f.CertificateStatusAtExport[ct.ID])},
			{"Portée", scope + " ; " + parcelsScope},
		})
		rows = rows[:0]
		for _, h := range ct.History {
			rows = append(rows, []string{timeFR(h.At), fr(statusesFR, h.Status), h.Reason, h.By})
		}
		d.table([]column{{"Date", 20, "L"}, {"Statut", 20, "L"}, {"Motif", 90, "L"}, {"Par", 50, "L"}}, rows)
	}
	if len(f.Certificates) == 0 {
		d.para("Aucun certificat.")
	}

	d.heading("Résultats de laboratoire (ISO 3632)", 40)
	rows = rows[:0]
	for _, r := range f.LabResults {
		fg := r.Figures
		category := r.Category
		if category == "" {
			category = "aucune"
		}
		if r.ReportedCategory != "" && r.ReportedCategory != r.Category {
			category += "\n(rapport : " + r.ReportedCategory + ")"
		}
		report := "—"
		if r.Report != nil {
			report = r.ReportFile + "\nSHA-256 " + r.Report.SHA256[:16] + "…"
		}
		rows = append(rows, []string{r.Lot, joinNonEmpty("\n", r.Laboratory.Name, "accréditation "+r.Laboratory.Accreditation, r.ReportNumber),
			"prélevé " + dateFR(r.SampleDate) + "\nrapport " + dateFR(r.ReportDate),
			fg.E257.String() + " / " + fg.E330.String() + " / " + fg.E440.String(),
			fg.Moisture.String() + " / " + fg.FloralWaste.String() + " / " + fg.ForeignMatter.String(), category, report})
	}
	d.table([]column{{"Lot", 26, "L"}, {"Laboratoire", 40, "L"}, {"Dates", 26, "L"}, {"E257 / E330 / E440", 26, "C"},
		{"Humidité / déchets floraux / matières étrangères (%)", 30, "C"}, {"Catégorie", 18, "C"}, {"Rapport", 28, "L"}}, rows)
	d.note("Absorbances spécifiques E1%1cm sur matière sèche (ISO 3632-2) : 257 nm picrocrocine (amertume), 330 nm safranal (arôme), " +
		"440 nm crocine (pouvoir colorant). La catégorie est calculée par Terroir à partir des chiffres, selon le tableau ci-dessous.")
	for _, ed := range f.Thresholds {
		d.pdf.SetFont("Helvetica", "B", 8.5)
		d.pdf.CellFormat(contentW, 5, d.tr("Seuils "+ed.Standard), "", 1, "L", false, 0, "")
		rows = rows[:0]
		for _, c := range ed.Categories {
			rows = append(rows, []string{c.Name, "min. " + c.MinPicrocrocin.String(), c.MinSafranal.String() + " à " + c.MaxSafranal.String(),
				"min. " + c.MinCrocin.String(), "max. " + ed.MaxMoistureFilaments.String() + " (poudre " + ed.MaxMoisturePowder.String() + ")",
				"max. " + c.MaxFloralWaste.String(), "max. " + c.MaxForeign.String()})
		}
		d.table([]column{{"Catégorie", 16, "C"}, {"E257", 18, "R"}, {"E330", 22, "R"}, {"E440", 18, "R"}, {"Humidité %", 34, "R"},
			{"Déchets floraux %", 24, "R"}, {"Matières étrangères %", 26, "R"}}, rows)
		d.note("Source : " + ed.Source)
	}
	return d.output(w)
}

// count writes n and the noun, singular for 0 and 1 as French does.
func count(n int, one, many string) string {
	if n > 1 {
		return strconv.Itoa(n) + " " + many
	}
	return strconv.Itoa(n) + " " + one
}

func hectares(m2 int64) string {
	return strconv.FormatFloat(float64(m2)/10_000, 'f', 2, 64)
}

func percent(s string) string {
	if s == "" {
		return ""
	}
	return s + " %"
}

func lotsSuffix(lots []string) string {
	if len(lots) == 0 {
		return ""
	}
	return " : " + strings.Join(lots, ", ")
}
