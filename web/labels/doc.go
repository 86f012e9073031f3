// Package labels draws what is printed: QR images of signed trace URLs (PNG
// for the API, inline SVG for receipts) and A4 sheets of self-adhesive
// labels (PDF) with the legally useful text. It is the only package that
// imports go-qrcode (STYLE.md) and the only user of the PDF library; it
// knows nothing of HTTP: web/api reads the request, builds the labels'
// content and calls WriteSheet.
//
// Invariants: every QR module is a whole number of pixels (PNG) or printer
// dots (PDF), at least two pixels and at least 0.4 mm printed, so phone
// cameras and decoders read what we print; a grid too small for a URL is
// refused rather than printed illegibly.
package labels
