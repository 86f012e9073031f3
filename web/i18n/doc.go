// Package i18n holds the message catalogues of every string a person reads
// (pages, product kinds and other vocabularies, domain error messages,
// label sheets, e-mails, CSV headers), the language negotiation and the
// number and money formats, on golang.org/x/text: message and catalog for
// the catalogues, feature/plural for the CLDR plural rules, language.Matcher
// for Accept-Language with its quality values.
//
// One embedded JSON file per language, locales/{tag}.json:
//
//	{"tag": "fr", "name": "Français", "dir": "ltr", "numbers": "fr",
//	 "messages": {"site": "Terroir",
//	              "cat_count": {"one": "%d produit", "other": "%d produits"}}}
//
// A plain entry is a format string (fmt verbs, %[2]d to reorder). A plural
// entry is an object of CLDR plural forms (zero, one, two, few, many,
// other; "=0"-style exact cases too) selected by the first argument, or by
// the argument "arg" names (1-based). "numbers" is the CLDR locale whose
// digits and separators the language uses: Arabic pages use ar-MA (Latin
// digits, 1.234,50), as Moroccan administrations and shops do. Adding a
// language is adding one file; TestEveryLanguageHasEveryKey then names
// every key it lacks.
//
// Decisions recorded here:
//   - Keys of domain errors are their English format strings (problem.New,
//     problem.Field; gettext's msgid). English is the source language: an
//     English entry is needed only where the text differs from the key, so
//     en.json holds the page strings and not the error messages; every
//     other language must translate every key.
//   - French is the default language (the network's working language); a
//     key missing in a language falls back to English, never to an empty
//     string — and the completeness test fails.
//   - Vocabularies have one name per code everywhere: "kind.saffron_dried"
//     is what the label, the trace page, the back-office and the catalogue
//     print. Vocabulary keys are vocabulary + "." + code (kind, step,
//     status, event, movement, order_status, coop_kind, country, role,
//     dimension, payment, source, field).
//   - Money is written per language from the catalogue's pattern for the
//     currency ("money.MAD": "%s DH" in French) around the number in the
//     language's digits: "180,00 DH", "12,50 €", "MAD 180.00", "€12.50",
//     "180,00 درهم". Arithmetic never sees this: amounts stay int64 minor
//     units.
//
// A partial catalogue names, in "groups", the page groups it is written
// for (locales/zgh.json: "trace", "harvest"), and may say in "review" and
// "review_note" that it awaits a native speaker's review. It is not among
// Languages(): the server declares each group's keys (DefineGroups), and
// the language is offered (LanguagesFor, NegotiateFor) only on the pages of
// a group it has every key of. What it lacks falls back to French, the
// region's first language, not to English. x/text has no plural rules for
// zgh, so its plural entries are exact cases ("=0", "=1") and "other"; Load
// refuses a named form it could not select.
//
// There is no package state: Load builds a Bundle, which web.New makes once
// and hands to the handlers. A Bundle and its Locales are immutable and safe
// for concurrent use.
package i18n
