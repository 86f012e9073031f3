package traceability

import (
	"context"
	"net/url"
	"strings"

	"github.com/terroir-coop/terroir/internal/id"
)

// Codes says where trace codes point and signs them: the public base URL
// (TERROIR_PUBLIC_URL) and the signer with the QR keys (TERROIR_QR_KEY).
//
// Parties, when set, describes the shops that events name, for the EPCIS
// export (their GLN and time zone); without it a shop is named by a URI of
// this server and placed in Africa/Casablanca.
type Codes struct {
	PublicURL string // no trailing slash
	Signer    *Signer
	Parties   PartyDirectory
}

// RefOf returns the trace reference of a lot: a GS1 Digital Link when the
// lot is packed units of a product with a GTIN, else /t/{lot}. serial is
// empty for the lot as a whole.
func RefOf(l Lot, serial string) TraceRef {
	if l.GTIN == "" {
		return TraceRef{Lot: l.Code}
	}
	return TraceRef{GTIN: l.GTIN, Lot: l.Code, Serial: serial}
}

// URL returns the signed URL a QR code encodes: base + canonical path +
// ?s= signature of the canonical path.
func (c Codes) URL(ref TraceRef) string {
	p := ref.CanonicalPath()
	return strings.TrimRight(c.PublicURL, "/") + p + "?s=" + url.QueryEscape(c.Signer.Sign(p))
}

// Authentic reports whether sig signs ref.
func (c Codes) Authentic(ref TraceRef, sig string) bool {
	return sig != "" && c.Signer.Verify(ref.CanonicalPath(), sig)
}

// StoredQRKey returns the QR signing key kept in the store, made at first
// use. It is for installations without TERROIR_QR_KEY (the demo, a laptop):
// labels printed there stay valid across restarts. Production sets the key
// in the environment so that it is not readable by whoever reads the database.
func (s *Service) StoredQRKey(ctx context.Context) ([]byte, error) {
	v, err := s.store.qrKey(ctx, id.New("qrk")+id.New("qrk"))
	return []byte(v), err
}
