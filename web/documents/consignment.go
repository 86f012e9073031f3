package documents

import (
	"fmt"
	"io"
	"strconv"

	"github.com/terroir-coop/terroir/traceability"
)

var transportFR = map[string]string{"road": "route", "sea": "mer", "air": "air", "rail": "rail"}

var consignmentStatusFR = map[string]string{
	traceability.ConsignmentDeclared:  "déclaré, certificat d'inspection à délivrer",
	traceability.ConsignmentCOIIssued: "certificat d'inspection délivré",
	traceability.ConsignmentReceived:  "reçu par le destinataire",
}

// ConsignmentPDF writes the sheet of an export consignment: what the
// cooperative sends its control body to request the certificate of
// inspection (Reg. (EU) 2021/2306), and what travels with the goods.
func ConsignmentPDF(w io.Writer, c traceability.Consignment) error {
	title := "Fiche d'expédition " + c.ID
	d := newDoc(title, "Envoi biologique vers l'Union européenne", c.CreatedAt)
	d.pdf.AddPage()
	d.title("Fiche d'expédition (envoi biologique vers l'UE)", "Envoi "+c.ID+" — expédition le "+dateFR(c.ShippingDate))
	coi := c.COINumber
	if coi == "" {
		coi = "à délivrer par l'organisme de contrôle dans TRACES"
	}
	operator := func(o traceability.Operator) string {
		s := joinNonEmpty(", ", o.Name, o.Address, o.Country)
		if o.Code != "" {
			s += " (n° " + o.Code + ")"
		}
		return s
	}
	d.pairs([][2]string{
		{"Certificat d'inspection (COI)", coi},
		{"Statut", fr(consignmentStatusFR, c.Status)},
		{"Exportateur", operator(c.Exporter)},
		{"Organisme de contrôle", joinNonEmpty(", code ", c.Certificate.Body, c.Certificate.BodyCode)},
		{"Certificat biologique", c.Certificate.Scheme + " n° " + c.Certificate.Number + ", valide du " + dateFR(c.Certificate.ValidFrom) +
			" au " + dateFR(c.Certificate.ValidTo)},
		{"Destinataire (importateur)", operator(c.Consignee)},
		{"Premier destinataire", operator(c.FirstConsignee)},
		{"Pays d'expédition", c.CountryOfDispatch},
		{"Pays de destination", c.CountryDestination},
		{"Poste de contrôle frontalier", c.BorderPost},
		{"Moyen de transport", joinNonEmpty(", ", fr(transportFR, c.Transport.Mode), c.Transport.Identification)},
		{"Conteneur", c.Transport.Container},
		{"Plateforme destinataire", c.Destination},
	})
	d.heading("Marchandises", 30)
	rows := make([][]string, 0, len(c.Lines))
	for _, l := range c.Lines {
		units := "vrac"
		if l.Units > 0 {
			units = strconv.FormatInt(l.Units, 10)
		}
		category := l.Category
		if category != "" {
			category = "Catégorie " + category + " (ISO 3632)"
		}
		rows = append(rows, []string{l.Lot, joinNonEmpty("\n", l.Description, fr(kindsFR, l.ProductKind), l.SKU, l.GTIN, category), l.CNCode, units,
			traceability.FormatQuantity(l.Content, l.Unit), strconv.FormatInt(l.Packages, 10) + " " + l.PackageKind,
			traceability.FormatMassKg(l.NetMass), traceability.FormatMassKg(l.GrossMass)})
	}
	rows = append(rows, []string{"Total", "", "", "", "", strconv.FormatInt(c.Packages, 10), traceability.FormatMassKg(c.NetMass), traceability.FormatMassKg(c.GrossMass)})
	d.table([]column{{"N° de lot", 30, "L"}, {"Désignation", 46, "L"}, {"Code NC", 18, "L"}, {"Unités", 13, "R"}, {"Contenu net", 18, "R"},
		{"Colis", 20, "L"}, {"Poids net (kg)", 17, "R"}, {"Poids brut (kg)", 17, "R"}}, rows)
	if len(c.Receipts) > 0 {
		d.heading("Réceptions", 25)
		rows = rows[:0]
		for _, r := range c.Receipts {
			rows = append(rows, []string{timeFR(r.At), r.Shop, r.Lot, strconv.FormatInt(r.Units, 10), r.By})
		}
		d.table([]column{{"Date", 22, "L"}, {"Reçu à", 30, "L"}, {"Lot", 30, "L"}, {"Unités", 16, "R"}, {"Par", 60, "L"}}, rows)
	}
	d.note(fmt.Sprintf("Chaque lot de cet envoi porte la certification %s n° %s à la date d'expédition : son produit, ses parcelles d'origine "+
		"et leurs dates de récolte sont dans la portée du certificat et aucun lot non certifié n'y a été mêlé (vérifié par Terroir à la "+
		"déclaration). Le certificat d'inspection est délivré dans TRACES par l'organisme de contrôle de l'exportateur (règlement délégué "+
		"(UE) 2021/2306) ; son numéro est reporté ici une fois délivré.", c.Certificate.Scheme, c.Certificate.Number))
	return d.output(w)
}
