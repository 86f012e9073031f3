package trace

import (
	"errors"
	"net/url"
	"testing"
)

// TestUncompressed decodes compressed Digital Links made by GS1's
// reference toolkit (GS1DigitalLinkToolkit.js as shipped in
// gs1/GS1_DigitalLink_Resolver_CE, and in gs1/digital-link.js): the
// latter's own test vector, and ours produced by compressGS1DigitalLink
// (uncompressed form → compressed form). The two toolkits agree on every
// vector here but 1A: digital-link.js's copy sorts Table Opt's sequences
// in place (01 10 17 21), the resolver's copy keeps the table's order
// (01 10 21 17), which is the one decoded here.
func TestUncompressed(t *testing.T) {
	for _, tt := range []struct {
		compressed, path string
		query            url.Values
	}{
		// digital-link.js tests/index.js: DATA.compressedWebUri.
		{"/HxHKVAdpQhCTxbrOF_yEFcx_4a2GeAh1mFOZkChg6Z8pgcEMEWpMganmIfESxTyJ5UvMJa9Za",
			"/01/09780345418913/10/38737643/21/58943",
			url.Values{"15": {"230911"}, "thngId": {"U5mQKGDpnymBwQwRakyBqeYh"}, "linkType": {"test"}}},
		{"/ARHKVAdpQg", "/01/09780345418913", url.Values{}},
		{"/AQAFv7g4cg", "/01/00012345678905", url.Values{}}, // leading zeros of a fixed-length number
		// Optimisation 0B (01 then 10), the lot in each encoding.
		{"/Cwsdw-5drgowOQ", "/01/06111234567895/10/12345", url.Values{}},             // digits
		{"/Cwsdw-5drk1WJd4", "/01/06111234567895/10/ab12ef", url.Values{}},           // lower-case hex
		{"/Cwsdw-5dro1WJd5ChU4", "/01/06111234567895/10/AB12EF/21/A7", url.Values{}}, // upper-case hex, base64
		// A Terroir label: lot in 7-bit ASCII, the signature as a non-GS1 pair.
		{"/Cwsdw-5drtqQAv3rJJuwIpWngbGOMb5gPKw8_O5-Xw", "/01/06111234567895/10/SAF-9ZJN2BFK0",
			url.Values{"s": {"Mb5gPKw8_O5-Xw"}}},
		// Optimisation 1A (01, 10, 21, 17): 17 is a data attribute.
		{"/Ggsdw-5drtqQAv3rJJuwIpWiFQolR4", "/01/06111234567895/10/SAF-9ZJN2BFK0/21/A1", url.Values{"17": {"281231"}}},
		// Serial "03" in digits: its two characters are kept (GS1's toolkit
		// itself returns "3" here, one reason Terroir's serials avoid
		// leading zeros).
		{"/Cwsdw-5drtqQAv3rJJuwIpWhCBA_A2McY3zAeVh5-dz8vg", "/01/06111234567895/10/SAF-9ZJN2BFK0/21/03",
			url.Values{"s": {"Mb5gPKw8_O5-Xw"}}},
	} {
		path, query, err := Uncompressed(tt.compressed)
		if err != nil || path != tt.path || query.Encode() != tt.query.Encode() {
			t.Errorf("%s: %s ?%s (%v), want %s ?%s", tt.compressed, path, query.Encode(), err, tt.path, tt.query.Encode())
		}
	}
	// Paths that are no compressed Digital Link of a GTIN.
	for _, p := range []string{"/robots", "/favicon.ico", "/a/b", "/", "/AAAA", "/shop", "/ARHKVAdpQg/x", "/01/09780345418913/ARHKVAdpQg"} {
		if path, _, err := Uncompressed(p); !errors.Is(err, errNotCompressed) && err == nil {
			t.Errorf("%s decoded as %s", p, path)
		}
	}
}

// FuzzUncompressed: any path a client sends is decoded without panicking,
// and what decodes is a Digital Link path of a GTIN.
func FuzzUncompressed(f *testing.F) {
	for _, s := range []string{"/HxHKVAdpQhCTxbrOF_yEFcx_4a2GeAh1mFOZkChg6Z8pgcEMEWpMganmIfESxTyJ5UvMJa9Za", "/ARHKVAdpQg",
		"/Cwsdw-5drtqQAv3rJJuwIpWngbGOMb5gPKw8_O5-Xw", "/Ggsdw-5drtqQAv3rJJuwIpWiFQolR4", "/_____________", "/F", "/01/09780345418913/AQ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, path string) {
		p, _, err := Uncompressed(path)
		if err == nil && (len(p) < len("/01/")+14 || p[:4] != "/01/") {
			t.Fatalf("%q decoded as %q", path, p)
		}
	})
}
