package web

// Strings of the settlement statement page.
var _ = registerMessages(map[string]map[string]string{
	"fr": {
		"stm_title": "Relevé de ventes", "stm_csv": "Télécharger (CSV)", "stm_closed": "mois clôturé",
		"stm_explain": "Chaque vente de vos produits, en boutique ou en ligne : part de la coopérative selon l'accord, marge de la boutique, frais de paiement (à la charge de la boutique), avances du fonds renouvelable remboursées et versements.",
		"stm_totals":  "Totaux", "stm_lines": "Ventes", "stm_currency": "Devise", "stm_units": "Unités", "stm_gross": "Brut",
		"stm_share": "Part coopérative", "stm_margin": "Marge boutique", "stm_fees": "Frais", "stm_repayment": "Remboursement d'avance",
		"stm_payouts": "Déjà versé", "stm_net_due": "Reste dû", "stm_date": "Date", "stm_channel": "Canal", "stm_lots": "Lots",
		"stm_empty": "Aucune vente ce mois-ci.",
	},
	"en": {
		"stm_title": "Sales statement", "stm_csv": "Download (CSV)", "stm_closed": "month closed",
		"stm_explain": "Every sale of your products, in a shop or online: the cooperative's share as agreed, the shop's margin, payment fees (borne by the shop), revolving-fund advances repaid, and payouts.",
		"stm_totals":  "Totals", "stm_lines": "Sales", "stm_currency": "Currency", "stm_units": "Units", "stm_gross": "Gross",
		"stm_share": "Cooperative's share", "stm_margin": "Shop margin", "stm_fees": "Fees", "stm_repayment": "Advance repaid",
		"stm_payouts": "Already paid", "stm_net_due": "Net due", "stm_date": "Date", "stm_channel": "Channel", "stm_lots": "Lots",
		"stm_empty": "No sales this month.",
	},
	"ar": {
		"stm_title": "كشف المبيعات", "stm_csv": "تنزيل (CSV)", "stm_closed": "شهر مغلق",
		"stm_explain": "كل بيع لمنتجاتكم، في المتجر أو عبر الإنترنت: حصة التعاونية حسب الاتفاق، هامش المتجر، رسوم الأداء (على حساب المتجر)، تسديد تسبيقات الصندوق الدوار، والدفعات.",
		"stm_totals":  "المجاميع", "stm_lines": "المبيعات", "stm_currency": "العملة", "stm_units": "الوحدات", "stm_gross": "الإجمالي",
		"stm_share": "حصة التعاونية", "stm_margin": "هامش المتجر", "stm_fees": "الرسوم", "stm_repayment": "تسديد التسبيق",
		"stm_payouts": "المدفوع", "stm_net_due": "الباقي المستحق", "stm_date": "التاريخ", "stm_channel": "القناة", "stm_lots": "الدفعات",
		"stm_empty": "لا مبيعات هذا الشهر.",
	},
})
