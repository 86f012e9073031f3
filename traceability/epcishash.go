package traceability

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The CBV 2.0 EPCIS event hash (CBV 2.0 section 8.9, "EPCIS event hash ID"):
// an event's canonical pre-hash string, hashed with SHA-256 and written as
// ni:///sha-256;{hex}?ver=CBV2.0. Any conformant tool recomputes the same ID
// from the event's content, whatever the JSON key order or the document it
// came in, so two exports holding one physical step give it one eventID and
// a repository receiving both stores it once.
//
// The pre-hash string is "eventType=" and the event's type, then its fields
// in the canonical property order (eventTime, eventTimeZoneOffset, …,
// readPoint, bizLocation, bizTransactionList, sourceList, destinationList,
// sensorElementList, ilmd), then its user extensions; each value as key=value
// with no separators; list elements sorted lexically; timestamps in UTC with
// milliseconds and Z; numbers without trailing zeros; bare CBV words
// (shipping, in_transit, owning_party) as their https://ref.gs1.org/cbv/ URIs;
// EPC URIs (urn:epc:id:sgtin:…) as canonical GS1 Digital Link URIs; extension
// keys as {namespace}localName, sorted; readPoint and bizLocation extensions
// after their id. Checked against the examples published with the standard's
// reference implementation (epcishash_test.go) and, on every export, against
// the epcis2.js implementation (epcis_schema_test.go).
//
// Supported: the fields of ObjectEvent, AggregationEvent, TransactionEvent,
// TransformationEvent and AssociationEvent except sensorElementList (the
// export never writes sensor data; EventHash returns an error for it).

// eventHashOrder is the canonical property order after eventType.
var eventHashOrder = []string{
	"eventTime", "eventTimeZoneOffset", "certificationInfo", "epcList", "parentID", "inputEPCList", "childEPCs",
	"quantityList", "childQuantityList", "inputQuantityList", "outputEPCList", "outputQuantityList",
	"action", "transformationID", "bizStep", "disposition", "persistentDisposition", "readPoint", "bizLocation",
	"bizTransactionList", "sourceList", "destinationList", "sensorElementList", "ilmd",
}

// notHashed are the keys the hash leaves out.
var notHashed = map[string]bool{"type": true, "eventID": true, "recordTime": true, "errorDeclaration": true, "@context": true,
	"rdfs:comment": true, "comment": true}

// EventHash returns the CBV 2.0 event hash ID of an EPCIS event given as its
// JSON, with namespaces mapping the JSON-LD prefixes of its extension keys
// ("terroir") to their IRIs.
func EventHash(eventJSON []byte, namespaces map[string]string) (string, error) {
	pre, err := EventPreHash(eventJSON, namespaces)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(pre))
	return "ni:///sha-256;" + hex.EncodeToString(sum[:]) + "?ver=CBV2.0", nil
}

// EventPreHash returns the canonical pre-hash string of an event.
func EventPreHash(eventJSON []byte, namespaces map[string]string) (string, error) {
	d := json.NewDecoder(bytes.NewReader(eventJSON))
	d.UseNumber()
	var ev map[string]any
	if err := d.Decode(&ev); err != nil {
		return "", err
	}
	h := preHasher{ns: namespaces}
	typ, _ := ev["type"].(string)
	var b strings.Builder
	b.WriteString("eventType=" + strings.TrimSpace(typ))
	for _, key := range eventHashOrder {
		v, ok := ev[key]
		if !ok {
			continue
		}
		s, err := h.field(key, v)
		if err != nil {
			return "", err
		}
		b.WriteString(s)
	}
	var ext []string
	for key, v := range ev {
		if notHashed[key] || slices.Contains(eventHashOrder, key) {
			continue
		}
		s, err := h.extension(key, v)
		if err != nil {
			return "", err
		}
		ext = append(ext, s)
	}
	slices.Sort(ext)
	b.WriteString(strings.Join(ext, ""))
	return b.String(), nil
}

type preHasher struct{ ns map[string]string }

// cbvPrefix is the vocabulary of bare-string values by key.
var cbvPrefix = map[string]string{
	"bizStep": "https://ref.gs1.org/cbv/BizStep-", "disposition": "https://ref.gs1.org/cbv/Disp-",
	"set": "https://ref.gs1.org/cbv/Disp-", "unset": "https://ref.gs1.org/cbv/Disp-",
}

func (h preHasher) field(key string, v any) (string, error) {
	switch key {
	case "epcList", "inputEPCList", "childEPCs", "outputEPCList":
		list, _ := v.([]any)
		var items []string
		for _, x := range list {
			items = append(items, "epc="+canonicalValue("epc", x))
		}
		return listPreHash(key, items), nil
	case "quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList":
		list, _ := v.([]any)
		var items []string
		for _, x := range list {
			q, _ := x.(map[string]any)
			s, err := h.ordered(q, []string{"epcClass", "quantity", "uom"}, nil, true)
			if err != nil {
				return "", err
			}
			items = append(items, "quantityElement"+s)
		}
		return listPreHash(key, items), nil
	case "bizTransactionList", "sourceList", "destinationList":
		value := map[string]string{"bizTransactionList": "bizTransaction", "sourceList": "source", "destinationList": "destination"}[key]
		vocab := map[string]string{"bizTransactionList": "https://ref.gs1.org/cbv/BTT-", "sourceList": "https://ref.gs1.org/cbv/SDT-", "destinationList": "https://ref.gs1.org/cbv/SDT-"}[key]
		list, _ := v.([]any)
		var items []string
		for _, x := range list {
			el, _ := x.(map[string]any)
			s := ""
			if t, ok := el["type"]; ok {
				s += "type=" + vocabValue(vocab, canonicalValue("type", t))
			}
			if id, ok := el[value]; ok {
				s += value + "=" + canonicalValue(value, id)
			}
			items = append(items, s)
		}
		return listPreHash(key, items), nil
	case "readPoint", "bizLocation":
		el, _ := v.(map[string]any)
		s, err := h.ordered(el, []string{"id"}, nil, true)
		return key + s, err
	case "persistentDisposition":
		el, _ := v.(map[string]any)
		var parts []string
		for _, k := range []string{"set", "unset"} {
			list, _ := el[k].([]any)
			var items []string
			for _, x := range list {
				items = append(items, k+"="+vocabValue(cbvPrefix[k], canonicalValue(k, x)))
			}
			slices.Sort(items)
			parts = append(parts, strings.Join(items, ""))
		}
		return key + strings.Join(parts, ""), nil
	case "ilmd":
		el, _ := v.(map[string]any)
		s, err := h.children(el)
		return key + s, err
	case "sensorElementList":
		return "", fmt.Errorf("epcis event hash: sensorElementList is not supported")
	}
	s := canonicalValue(key, v)
	if p, ok := cbvPrefix[key]; ok {
		s = vocabValue(p, s)
	}
	if s == "" {
		return "", nil
	}
	return key + "=" + s, nil
}

// ordered writes an element's known keys in order, then its extensions
// sorted (an extension point's extensions follow its regular fields).
func (h preHasher) ordered(el map[string]any, order []string, vocab map[string]string, extensions bool) (string, error) {
	var b strings.Builder
	for _, k := range order {
		if v, ok := el[k]; ok {
			s := canonicalValue(k, v)
			if p, ok := vocab[k]; ok {
				s = vocabValue(p, s)
			}
			b.WriteString(k + "=" + s)
		}
	}
	if extensions {
		var ext []string
		for k, v := range el {
			if slices.Contains(order, k) || notHashed[k] {
				continue
			}
			s, err := h.extension(k, v)
			if err != nil {
				return "", err
			}
			ext = append(ext, s)
		}
		slices.Sort(ext)
		b.WriteString(strings.Join(ext, ""))
	}
	return b.String(), nil
}

// children writes every key of an extension object, sorted.
func (h preHasher) children(el map[string]any) (string, error) {
	var parts []string
	for k, v := range el {
		if notHashed[k] {
			continue
		}
		s, err := h.extension(k, v)
		if err != nil {
			return "", err
		}
		parts = append(parts, s)
	}
	slices.Sort(parts)
	return strings.Join(parts, ""), nil
}

// extension writes a user extension: {namespace}local=value, its children
// for an object, one entry per element for a list, all sorted.
func (h preHasher) extension(key string, v any) (string, error) {
	name := key
	if prefix, local, ok := strings.Cut(key, ":"); ok {
		iri, known := h.ns[prefix]
		if !known {
			return "", fmt.Errorf("epcis event hash: no namespace for the prefix of %q", key)
		}
		name = "{" + iri + "}" + local
	}
	switch x := v.(type) {
	case map[string]any:
		s, err := h.children(x)
		return name + s, err
	case []any:
		var items []string
		for _, el := range x {
			s, err := h.extension(key, el)
			if err != nil {
				return "", err
			}
			items = append(items, s)
		}
		slices.Sort(items)
		return strings.Join(items, ""), nil
	}
	s := canonicalValue(key, v)
	if s == "" {
		return name, nil
	}
	return name + "=" + s, nil
}

func listPreHash(name string, items []string) string {
	if len(items) == 0 {
		return ""
	}
	slices.Sort(items)
	return name + strings.Join(items, "")
}

// vocabValue expands a bare CBV word (no ':') with the vocabulary's prefix.
func vocabValue(prefix, s string) string {
	if s == "" || strings.Contains(s, ":") {
		return s
	}
	return prefix + s
}

var cbvURNs = strings.NewReplacer(
	"urn:epcglobal:cbv:bizstep:", "https://ref.gs1.org/cbv/BizStep-",
	"urn:epcglobal:cbv:disp:", "https://ref.gs1.org/cbv/Disp-",
	"urn:epcglobal:cbv:btt:", "https://ref.gs1.org/cbv/BTT-",
	"urn:epcglobal:cbv:sdt:", "https://ref.gs1.org/cbv/SDT-",
	"urn:epcglobal:cbv:er:", "https://ref.gs1.org/cbv/ER-",
)

var hashNumber = regexp.MustCompile(`^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$`)

// canonicalValue writes a scalar as the pre-hash string wants it.
func canonicalValue(key string, v any) string {
	switch x := v.(type) {
	case json.Number:
		return canonicalNumber(string(x))
	case bool:
		return strconv.FormatBool(x)
	case nil:
		return ""
	case string:
		s := strings.TrimSpace(x)
		local := key
		if _, l, ok := strings.Cut(key, ":"); ok {
			local = l
		}
		if lk := strings.ToLower(local); strings.Contains(lk, "time") && !strings.Contains(lk, "offset") {
			if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
				return t.UTC().Round(time.Millisecond).Format("2006-01-02T15:04:05.000Z")
			}
		}
		s = cbvURNs.Replace(s)
		if hashNumber.MatchString(s) {
			return canonicalNumber(s)
		}
		if dl, ok := canonicalDigitalLink(s); ok {
			return dl
		}
		return s
	}
	return fmt.Sprint(v)
}

// canonicalNumber writes a number without trailing zeros: 1.0 → 1, 0.3430 →
// 0.343.
func canonicalNumber(s string) string {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return s
	}
	if f == math.Trunc(f) {
		return new(big.Float).SetFloat64(f).Text('f', 0)
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// gs1CheckDigit computes the GS1 mod-10 check digit of digits.
func gs1CheckDigit(digits string) string {
	sum := 0
	for i := range len(digits) {
		d := int(digits[len(digits)-1-i] - '0')
		if i%2 == 0 {
			d *= 3
		}
		sum += d
	}
	return strconv.Itoa((10 - sum%10) % 10)
}

var dlEncoder = strings.NewReplacer("!", "%21", "(", "%28", ")", "%29", "*", "%2A", "+", "%2B", ",", "%2C", ":", "%3A")

var (
	epcURN   = regexp.MustCompile(`^urn:epc:(id|class|idpat):([a-z]+):(\d+)\.(\d*)(?:\.(.*))?$`)
	dlPath   = regexp.MustCompile(`^https?://[^/?#]+(?:/[^?#]*?)?/(00|01|253|255|401|402|414|417|8003|8004|8006|8010|8017|8018)/(\d{4}[^/?#]*)((?:/[^/?#]+/[^/?#]+)*)/?(?:\?[^#]*)?(?:#.*)?$`)
	allDigit = regexp.MustCompile(`^\d+$`)
)

// canonicalDigitalLink converts an EPC URI to its canonical GS1 Digital Link
// URI, and a GS1 Digital Link URI on any domain to the canonical one (domain
// id.gs1.org, no query string, GTIN of 14 digits, only the finest level: a
// serial drops the lot). Anything else is not a GS1 identifier: ok is false.
func canonicalDigitalLink(s string) (string, bool) {
	if m := epcURN.FindStringSubmatch(s); m != nil {
		return epcToDigitalLink(m[1], m[2], m[3], m[4], m[5])
	}
	m := dlPath.FindStringSubmatch(s)
	if m == nil {
		return "", false
	}
	ai, key, rest := m[1], m[2], m[3]
	if ai == "01" && allDigit.MatchString(key) && len(key) < 14 {
		key = strings.Repeat("0", 14-len(key)) + key
	}
	var qualifiers [][2]string
	parts := strings.Split(strings.Trim(rest, "/"), "/")
	for i := 0; i+1 < len(parts); i += 2 {
		qualifiers = append(qualifiers, [2]string{parts[i], parts[i+1]})
	}
	hasSerial := slices.ContainsFunc(qualifiers, func(q [2]string) bool { return q[0] == "21" })
	out := "https://id.gs1.org/" + ai + "/" + key
	for _, q := range qualifiers {
		if q[0] == "22" || (q[0] == "10" && hasSerial) {
			continue
		}
		out += "/" + q[0] + "/" + q[1]
	}
	return out, true
}

// epcToDigitalLink converts the EPC URI schemes the export and the
// standard's examples use (sgtin, sscc, sgln, pgln, gdti, lgtin, idpat
// sgtin); others stay as written.
func epcToDigitalLink(kind, scheme, prefix, ref, rest string) (string, bool) {
	switch kind + ":" + scheme {
	case "id:sgtin", "class:lgtin", "idpat:sgtin":
		if len(prefix)+len(ref) != 13 || len(ref) == 0 {
			return "", false
		}
		raw := ref[:1] + prefix + ref[1:]
		out := "https://id.gs1.org/01/" + raw + gs1CheckDigit(raw)
		switch {
		case scheme == "sgtin" && kind == "id":
			out += "/21/" + dlEncoder.Replace(rest)
		case scheme == "lgtin":
			out += "/10/" + dlEncoder.Replace(rest)
		}
		return out, true
	case "id:sscc":
		if len(prefix)+len(ref) != 17 {
			return "", false
		}
		raw := ref[:1] + prefix + ref[1:]
		return "https://id.gs1.org/00/" + raw + gs1CheckDigit(raw), true
	case "id:sgln", "id:pgln":
		if len(prefix)+len(ref) != 12 {
			return "", false
		}
		raw := prefix + ref
		if scheme == "pgln" {
			return "https://id.gs1.org/417/" + raw + gs1CheckDigit(raw), true
		}
		out := "https://id.gs1.org/414/" + raw + gs1CheckDigit(raw)
		if rest != "" && rest != "0" {
			out += "/254/" + dlEncoder.Replace(rest)
		}
		return out, true
	case "id:gdti":
		if len(prefix)+len(ref) != 12 {
			return "", false
		}
		raw := prefix + ref
		return "https://id.gs1.org/253/" + raw + gs1CheckDigit(raw) + dlEncoder.Replace(rest), true
	}
	return "", false
}
