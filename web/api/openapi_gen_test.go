package api

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/terroir-coop/terroir/catalog"
	"github.com/terroir-coop/terroir/orders"
	"github.com/terroir-coop/terroir/shops"
	"github.com/terroir-coop/terroir/traceability"
	"github.com/terroir-coop/terroir/web/accounts"
	"github.com/terroir-coop/terroir/web/api/internal/oapigen"
	"github.com/terroir-coop/terroir/web/catalogcache"
	"github.com/terroir-coop/terroir/web/page"
	"github.com/terroir-coop/terroir/web/trace"
)

var update = flag.Bool("update", false, "rewrite openapi.json from openapi.src.json and the Go types")

// The Go types behind the document's schemas: what the handlers write
// (answers) and decode (request bodies). A handler that answers another
// type is caught by the API tests, which validate every real answer
// against the document (web/webtest).
func schemaTypes(g *oapigen.Generator) {
	for name, v := range map[string]any{
		"Error":                      page.ErrorBody{},
		"Token":                      tokenResponse{},
		"Cooperative":                traceability.Cooperative{},
		"Member":                     traceability.Member{},
		"Shop":                       shops.Shop{},
		"User":                       accounts.User{},
		"Parcel":                     traceability.Parcel{},
		"Harvest":                    harvestView{},
		"HarvestCorrection":          harvestCorrection{},
		"ImportPreview":              traceability.ImportPreview{},
		"Lot":                        lotView{},
		"LotSummary":                 lotSummary{},
		"LotCorrection":              lotCorrection{},
		"FlaggedLot":                 traceability.FlaggedLot{},
		"BalanceRow":                 traceability.BalanceRow{},
		"Certification":              traceability.Certification{},
		"Product":                    productView{},
		"PlausibilityRange":          traceability.Range{},
		"ProcessGraph":               traceability.ProcessGraph{},
		"ScanStat":                   traceability.ScanStat{},
		"CatalogItem":                catalogcache.Item{},
		"Balance":                    shops.Balance{},
		"StockLine":                  shops.StockLine{},
		"Shelf":                      shops.Shelf{},
		"Sale":                       saleView{},
		"Transfer":                   shops.Transfer{},
		"Movement":                   shops.Movement{},
		"TraceAnswer":                trace.Answer{},
		"Order":                      orderView{},
		"Email":                      orders.Email{},
		"Statement":                  orders.Statement{},
		"Advance":                    orders.Advance{},
		"Payout":                     orders.Payout{},
		"MemberStatements":           orders.MemberStatements{},
		"MemberSlip":                 orders.MemberSlip{},
		"MemberSeason":               memberSeason{},
		"MemberTerms":                orders.MemberTerms{},
		"MemberPayoutRun":            orders.MemberPayoutRun{},
		"ImpactReport":               orders.ImpactReport{},
		"LotShares":                  traceability.LotShares{},
		"LabResult":                  labResultView{},
		"Quality":                    traceability.Quality{},
		"EvidenceJob":                evidenceJobView{},
		"Consignment":                consignmentView{},
		"TokenRequest":               tokenRequest{},
		"CooperativeRequest":         cooperativeRequest{},
		"MemberRequest":              memberRequest{},
		"ShopRequest":                shopRequest{},
		"UserRequest":                userRequest{},
		"ParcelRequest":              parcelRequest{},
		"HarvestRequest":             harvestRequest{},
		"OriginLotRequest":           originLotRequest{},
		"TransformationRequest":      transformationRequest{},
		"Packing":                    packingRequest{},
		"JustificationRequest":       justificationRequest{},
		"CertificationRequest":       certificationRequest{},
		"CertificationStatusRequest": statusRequest{},
		"ProductRequest":             productRequest{},
		"TransferRequest":            transferRequest{},
		"ArrivalRequest":             arrivalRequest{},
		"ReceiptRequest":             receiptRequest{},
		"ReturnRequest":              returnRequest{},
		"SaleRequest":                saleRequest{},
		"AdjustmentRequest":          adjustmentRequest{},
		"CountRequest":               countRequest{},
		"PriceRequest":               catalog.Money{},
		"ThresholdRequest":           thresholdRequest{},
		"OrderRequest":               orderRequest{},
		"RefundRequest":              refundRequest{},
		"ShipRequest":                shipRequest{},
		"CancelRequest":              cancelRequest{},
		"ShareRequest":               catalog.Share{},
		"UnpaidLimitRequest":         unpaidLimitRequest{},
		"AdvanceRequest":             advanceRequest{},
		"PayoutRequest":              payoutRequest{},
		"RetentionRequest":           retentionRequest{},
		"RateRequest":                rateRequest{},
		"PayoutRunRequest":           orders.NewPayoutRun{},
		"LabResultRequest":           labResultRequest{},
		"ConsignmentRequest":         consignmentRequest{},
		"COIRequest":                 coiRequest{},
		"CorrectionRequest":          correctionRequest{},
	} {
		mode := oapigen.Response
		if strings.HasSuffix(name, "Request") || name == "Packing" {
			mode = oapigen.Request
		}
		g.Name(mode, name, v)
	}
	g.Fixed[reflect.TypeFor[traceability.Measure]()] = oapigen.Schema{"type": "number", "description": "a decimal figure, at most three decimals"}
	g.Fixed[reflect.TypeFor[traceability.Figure]()] = oapigen.Schema{"description": "a laboratory figure: a number, or a string holding one (\"235,4\")",
		"anyOf": []any{oapigen.Schema{"type": "number"}, oapigen.Schema{"type": "string"}}}
	g.Fixed[reflect.TypeFor[orders.Rate]()] = oapigen.Schema{"type": "string", "description": "a decimal rate as text (no float rounds it)"}
}

// decimal is the schema of the members' terms' raw decimals
// (json.RawMessage, read by decimalText).
var decimal = oapigen.Schema{"description": "a decimal: a number, or a string holding one",
	"anyOf": []any{oapigen.Schema{"type": "number"}, oapigen.Schema{"type": "string"}}}

// propertyOverrides give the schema of fields whose Go type says too
// little: raw JSON the handler reads itself.
var propertyOverrides = map[string]map[string]oapigen.Schema{
	"RetentionRequest": {"percent": decimal},
	"RateRequest":      {"rate": decimal},
}

// Required fields of request bodies: the services refuse a body without
// them, naming the field (the reflected schema cannot know it).
var requestRequired = map[string][]string{
	"TokenRequest": {"email", "password"},
	"Packing":      {"lot", "sku", "units"},
}

// TestOpenAPIIsGenerated fails when openapi.json is not what
// generateOpenAPI makes of openapi.src.json and the Go types: a field added
// to an answer's struct without regenerating fails here. Regenerate with
//
//	go test ./web/api -run TestOpenAPIIsGenerated -update
func TestOpenAPIIsGenerated(t *testing.T) {
	src, err := os.ReadFile("openapi.src.json")
	if err != nil {
		t.Fatal(err)
	}
	got, err := generateOpenAPI(src)
	if err != nil {
		t.Fatal(err)
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(got)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("the generated document is not valid OpenAPI 3: %v", err)
	}
	if *update {
		if err := os.WriteFile("openapi.json", got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if !bytes.Equal(got, openAPIDoc) {
		a, b := strings.Split(string(openAPIDoc), "\n"), strings.Split(string(got), "\n")
		for i := range min(len(a), len(b)) {
			if a[i] != b[i] {
				t.Fatalf("openapi.json is not what the generator makes of openapi.src.json and the Go types (line %d: %q, generated %q); run go test ./web/api -run TestOpenAPIIsGenerated -update",
					i+1, a[i], b[i])
			}
		}
		t.Fatalf("openapi.json has %d lines, the generator makes %d; run go test ./web/api -run TestOpenAPIIsGenerated -update", len(a), len(b))
	}
}

// generateOpenAPI completes the hand-kept document src: the reflected
// schemas of the Go types, every templated path's parameters, and the
// answers every operation can get from the middleware in front of it.
func generateOpenAPI(src []byte) ([]byte, error) {
	var doc map[string]any
	if err := json.Unmarshal(src, &doc); err != nil {
		return nil, fmt.Errorf("openapi.src.json: %w", err)
	}
	g := oapigen.New()
	schemaTypes(g)
	generated, err := g.Components()
	if err != nil {
		return nil, err
	}
	components := doc["components"].(map[string]any)
	schemas := components["schemas"].(map[string]any)
	for name, s := range generated {
		if _, ok := schemas[name]; ok {
			return nil, fmt.Errorf("schema %s is both hand-kept and generated", name)
		}
		if req, ok := requestRequired[name]; ok {
			s["required"] = req
		}
		for prop, ps := range propertyOverrides[name] {
			props := s["properties"].(oapigen.Schema)
			if _, ok := props[prop]; !ok {
				return nil, fmt.Errorf("schema %s has no property %s to override", name, prop)
			}
			props[prop] = ps
		}
		schemas[name] = s
	}
	if err := completeOperations(doc); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", " ")
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

var templateParam = regexp.MustCompile(`\{(\w+)\}`)

// ownIdempotencyPaths take no generic Idempotency-Key replay (web's
// ownIdempotency): POST /orders keeps its own, the others take none.
var ownIdempotencyPaths = map[string]bool{"/orders": true, "/auth/token": true, "/stripe/webhook": true}

func completeOperations(doc map[string]any) error {
	paths := doc["paths"].(map[string]any)
	names := make([]string, 0, len(paths))
	for p := range paths {
		names = append(names, p)
	}
	sort.Strings(names)
	for _, p := range names {
		item := paths[p].(map[string]any)
		declared := map[string]bool{}
		for _, par := range asList(item["parameters"]) {
			if m, ok := par.(map[string]any); ok && m["in"] == "path" {
				declared[m["name"].(string)] = true
			}
		}
		var params []any
		params = append(params, asList(item["parameters"])...)
		for _, m := range templateParam.FindAllStringSubmatch(p, -1) {
			if !declared[m[1]] {
				params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
			}
		}
		if len(params) > 0 {
			item["parameters"] = params
		}
		for method, v := range item {
			if method == "parameters" {
				continue
			}
			op := v.(map[string]any)
			// An operation's own path parameters are the path's.
			var kept []any
			for _, par := range asList(op["parameters"]) {
				if m, ok := par.(map[string]any); ok && m["in"] == "path" {
					continue
				}
				kept = append(kept, par)
			}
			responses := op["responses"].(map[string]any)
			for status, r := range responses {
				rm := r.(map[string]any)
				if strings.HasPrefix(status, "2") && rm["content"] == nil {
					return fmt.Errorf("%s %s: answer %s declares no content", strings.ToUpper(method), p, status)
				}
			}
			add := func(status, ref string) {
				if _, ok := responses[status]; !ok {
					responses[status] = map[string]any{"$ref": "#/components/responses/" + ref}
				}
			}
			// The middleware in front of every operation: a bad bearer
			// token (401), the group's cap (503 + Retry-After), an internal
			// error (500, a request ID only).
			add("401", "Error")
			add("500", "Internal")
			add("503", "Unavailable")
			if op["requestBody"] != nil {
				add("400", "Error")
			}
			if op["requestBody"] != nil || method == "post" || method == "put" {
				add("413", "Error") // the route's body limit, body or not
			}
			if (method == "post" || method == "put") && !ownIdempotencyPaths[p] || p == "/orders" && method == "post" {
				add("409", "Error") // the first request with this key is still in progress
				add("422", "Error") // the key was used with another body
				if !hasParam(kept, "Idempotency-Key") {
					kept = append(kept, map[string]any{"$ref": "#/components/parameters/IdempotencyKey"})
				}
				for status, r := range responses {
					rm := r.(map[string]any)
					if !strings.HasPrefix(status, "2") || rm["$ref"] != nil {
						continue
					}
					headers, _ := rm["headers"].(map[string]any)
					if headers == nil {
						headers = map[string]any{}
					}
					headers["Idempotent-Replayed"] = map[string]any{"$ref": "#/components/headers/IdempotentReplayed"}
					rm["headers"] = headers
				}
			}
			if len(kept) > 0 {
				op["parameters"] = kept
			} else {
				delete(op, "parameters")
			}
		}
	}
	return nil
}

func hasParam(params []any, name string) bool {
	return slices.ContainsFunc(params, func(p any) bool {
		m, ok := p.(map[string]any)
		return ok && (m["name"] == name || m["$ref"] == "#/components/parameters/IdempotencyKey" && name == "Idempotency-Key")
	})
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}
