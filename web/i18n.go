package web

import (
	"strings"

	"github.com/gin-gonic/gin"
)

// Languages of the pages: French is the network's working language and the
// default; Arabic is written right to left.
var languages = []string{"fr", "en", "ar"}

const langCookie = "terroir_lang"

// messages holds every page string per language. A key missing in en or ar
// falls back to French (see init), so a page never shows an empty label.
var messages = map[string]map[string]string{
	"fr": {
		"lang_name": "Français", "dir": "ltr",
		"site": "Terroir", "tagline": "Produits des coopératives du Souss-Massa-Drâa, tracés de la parcelle au bocal.",
		"home_intro": "Safran de Taliouine, huile d'argan, huile d'olive, huiles essentielles, miel : chaque lot porte un code QR qui raconte son origine.",
		"login":      "Se connecter", "logout": "Se déconnecter", "email": "Adresse e-mail", "password": "Mot de passe",
		"admin": "Administration du réseau", "cooperatives": "Coopératives", "shops": "Boutiques et canaux", "users": "Utilisateurs",
		"members": "Membres", "create": "Créer", "add": "Ajouter", "code": "Code", "name": "Nom", "kind": "Type",
		"commune": "Commune", "province": "Province", "group": "Fédération ou GIE", "city": "Ville", "currency": "Devise",
		"role": "Rôle", "org": "Organisation (code)", "scope": "Coopératives auditées (codes séparés par des virgules)",
		"gender": "Genre", "female": "Femme", "male": "Homme", "village": "Village", "women": "femmes",
		"empty": "Rien pour l'instant.", "previous": "Précédent", "next": "Suivant", "saved": "Enregistré.",
		"new_cooperative": "Nouvelle coopérative", "new_shop": "Nouvelle boutique", "new_user": "Nouvel utilisateur", "new_member": "Nouveau membre",
		"my_cooperative": "Ma coopérative", "open": "Ouvrir", "logged_in_as": "Connecté·e :",
		"kind_boutique": "boutique", "kind_platform": "plateforme",
		"err_title": "Une erreur est survenue", "err_csrf_failed": "Le formulaire a expiré. Rechargez la page et réessayez.",
		"err_forbidden": "Vous n'avez pas accès à cette page.", "err_not_found": "Page introuvable.",
		"err_bad_credentials": "Adresse e-mail ou mot de passe incorrect.", "err_throttled": "Trop d'essais. Attendez 15 minutes.",
		"err_internal": "Erreur interne. Référence :", "err_invalid": "Vérifiez le champ signalé.", "back_home": "Retour à l'accueil",
	},
	"en": {
		"lang_name": "English", "dir": "ltr",
		"tagline":    "Products of the Souss-Massa-Drâa cooperatives, traced from parcel to jar.",
		"home_intro": "Saffron of Taliouine, argan oil, olive oil, essential oils, honey: every lot carries a QR code that tells where it came from.",
		"login":      "Log in", "logout": "Log out", "email": "Email address", "password": "Password",
		"admin": "Network administration", "cooperatives": "Cooperatives", "shops": "Shops and channels", "users": "Users",
		"members": "Members", "create": "Create", "add": "Add", "code": "Code", "name": "Name", "kind": "Kind",
		"commune": "Commune", "province": "Province", "group": "Federation or GIE", "city": "City", "currency": "Currency",
		"role": "Role", "org": "Organisation (code)", "scope": "Audited cooperatives (codes, comma-separated)",
		"gender": "Gender", "female": "Woman", "male": "Man", "village": "Village", "women": "women",
		"empty": "Nothing yet.", "previous": "Previous", "next": "Next", "saved": "Saved.",
		"new_cooperative": "New cooperative", "new_shop": "New shop", "new_user": "New user", "new_member": "New member",
		"my_cooperative": "My cooperative", "open": "Open", "logged_in_as": "Logged in:",
		"kind_boutique": "shop", "kind_platform": "platform",
		"err_title": "Something went wrong", "err_csrf_failed": "The form expired. Reload the page and try again.",
		"err_forbidden": "You do not have access to this page.", "err_not_found": "Page not found.",
		"err_bad_credentials": "Wrong email or password.", "err_throttled": "Too many attempts. Wait 15 minutes.",
		"err_internal": "Internal error. Reference:", "err_invalid": "Check the field marked.", "back_home": "Back to the home page",
	},
	"ar": {
		"lang_name": "العربية", "dir": "rtl",
		"site":       "تيروار",
		"tagline":    "منتجات تعاونيات سوس ماسة درعة، متتبَّعة من القطعة الأرضية إلى العلبة.",
		"home_intro": "زعفران تالوين، زيت الأركان، زيت الزيتون، الزيوت العطرية، العسل: لكل دفعة رمز QR يروي أصلها.",
		"login":      "تسجيل الدخول", "logout": "تسجيل الخروج", "email": "البريد الإلكتروني", "password": "كلمة المرور",
		"admin": "إدارة الشبكة", "cooperatives": "التعاونيات", "shops": "المتاجر وقنوات البيع", "users": "المستخدمون",
		"members": "الأعضاء", "create": "إنشاء", "add": "إضافة", "code": "الرمز", "name": "الاسم", "kind": "النوع",
		"commune": "الجماعة", "province": "الإقليم", "group": "الفيدرالية أو المجموعة", "city": "المدينة", "currency": "العملة",
		"role": "الدور", "org": "المنظمة (الرمز)", "scope": "التعاونيات الخاضعة للتدقيق (رموز مفصولة بفواصل)",
		"gender": "الجنس", "female": "امرأة", "male": "رجل", "village": "الدوار", "women": "نساء",
		"empty": "لا شيء بعد.", "previous": "السابق", "next": "التالي", "saved": "تم الحفظ.",
		"new_cooperative": "تعاونية جديدة", "new_shop": "متجر جديد", "new_user": "مستخدم جديد", "new_member": "عضو جديد",
		"my_cooperative": "تعاونيتي", "open": "فتح", "logged_in_as": "متصل:",
		"kind_boutique": "متجر", "kind_platform": "منصة",
		"err_title": "حدث خطأ", "err_csrf_failed": "انتهت صلاحية الاستمارة. أعد تحميل الصفحة وحاول مجددًا.",
		"err_forbidden": "ليس لديك حق الوصول إلى هذه الصفحة.", "err_not_found": "الصفحة غير موجودة.",
		"err_bad_credentials": "البريد الإلكتروني أو كلمة المرور غير صحيحة.", "err_throttled": "محاولات كثيرة. انتظر 15 دقيقة.",
		"err_internal": "خطأ داخلي. المرجع:", "err_invalid": "تحقق من الحقل المشار إليه.", "back_home": "العودة إلى الصفحة الرئيسية",
	},
}

// messageSets are the page strings of other files (one set per feature),
// merged into messages at start. A file adds its set with
//
//	var _ = registerMessages(map[string]map[string]string{"fr": {…}, "en": {…}, "ar": {…}})
var messageSets []map[string]map[string]string

func registerMessages(m map[string]map[string]string) bool {
	messageSets = append(messageSets, m)
	return true
}

func init() {
	for _, set := range messageSets {
		for lang, kv := range set {
			for k, v := range kv {
				messages[lang][k] = v
			}
		}
	}
	for _, l := range languages {
		for k, v := range messages["fr"] {
			if _, ok := messages[l][k]; !ok {
				messages[l][k] = v
			}
		}
	}
}

// language picks the page language: ?lang= (remembered in a cookie), then
// the cookie, then Accept-Language, then French.
func (s *Server) language(c *gin.Context) {
	lang := ""
	if q := c.Query("lang"); isLanguage(q) {
		lang = q
		s.setCookie(c, langCookie, q, 365*24*3600)
	} else if v, err := c.Cookie(langCookie); err == nil && isLanguage(v) {
		lang = v
	} else {
		lang = fromAcceptLanguage(c.GetHeader("Accept-Language"))
	}
	c.Set("lang", lang)
	c.Next()
}

func isLanguage(l string) bool {
	for _, x := range languages {
		if l == x {
			return true
		}
	}
	return false
}

// fromAcceptLanguage returns the first supported language in the header's
// order of preference (quality values are honoured by order in practice:
// browsers list languages by decreasing q).
func fromAcceptLanguage(h string) string {
	for _, part := range strings.Split(h, ",") {
		tag := strings.TrimSpace(strings.SplitN(part, ";", 2)[0])
		base := strings.ToLower(strings.SplitN(tag, "-", 2)[0])
		if isLanguage(base) {
			return base
		}
	}
	return "fr"
}

func langOf(c *gin.Context) string {
	if l := c.GetString("lang"); l != "" {
		return l
	}
	return "fr"
}
