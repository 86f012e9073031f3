package traceability

import (
	"strings"
	"testing"
)

// TestEventHashOfThePublishedExamples checks EventHash on the example events
// published with the CBV 2.0 event hash algorithm (the reference
// implementation's test files, github.com/RalphTro/epcis-event-hash-generator,
// tests/examples: ReferenceEventHashAlgorithm, epcisDocWithSingleEvent,
// epcisDocWithVariousEventTypes), with the IDs published there. Examples with
// sourceList or destinationList are left out: the reference implementation
// writes destinationList before sourceList, against the standard's canonical
// order that EventHash and epcis2.js follow (checked on every export by
// TestEPCISExportsValidateWithEpcis2js).
func TestEventHashOfThePublishedExamples(t *testing.T) {
	ns := map[string]string{"example": "https://ns.example.com/epcis/", "cbvmda": "urn:epcglobal:cbv:mda:", "gs1": "https://gs1.org/voc/"}
	tests := []struct {
		name, event, want string
	}{
		{"reference example 1: nested user extensions, SSCCs, SGLN with extension",
			`{"type": "ObjectEvent", "eventTime": "2020-03-04T11:00:30.000+01:00", "eventTimeZoneOffset": "+01:00", "recordTime": "2020-03-04T11:00:30.999+01:00", "epcList": ["urn:epc:id:sscc:4012345.0000000333", "urn:epc:id:sscc:4012345.0000000111", "urn:epc:id:sscc:4012345.0000000222"], "action": "OBSERVE", "bizStep": "departing", "readPoint": {"id": "urn:epc:id:sgln:4012345.00011.987"}, "example:myField1": {"example:mySubField1": "2", "example:mySubField2": "5"}, "example:myField2": "0", "example:myField3": {"example:mySubField3": ["3", "1"]}}`,
			"ni:///sha-256;6ae96341e0acc6d7a261364751f60e68278a81cdf51da0abb6b4e617014e39d7?ver=CBV2.0"},
		{"shipping with a business transaction, microseconds, negative offset",
			`{"type": "ObjectEvent", "action": "OBSERVE", "bizStep": "shipping", "disposition": "in_transit", "epcList": ["urn:epc:id:sgtin:0614141.107346.2017", "urn:epc:id:sgtin:0614141.107346.2018"], "eventTime": "2022-02-16T20:33:31.116000-06:00", "eventTimeZoneOffset": "-06:00", "readPoint": {"id": "urn:epc:id:sgln:0614141.07346.1234"}, "bizTransactionList": [{"type": "po", "bizTransaction": "http://transaction.acme.com/po/12345678"}]}`,
			"ni:///sha-256;ffa491b16867e34a7791a8d5389d826afc24e63a121026b6a4004ace38631b4b?ver=CBV2.0"},
		{"inspecting an SSCC with a disposition",
			`{"type": "ObjectEvent", "eventTime": "2019-10-21T15:45:00.000+01:00", "eventTimeZoneOffset": "+01:00", "epcList": ["urn:epc:id:sscc:4012345.0111111111"], "action": "OBSERVE", "bizStep": "inspecting", "disposition": "in_progress", "readPoint": {"id": "urn:epc:id:sgln:4012345.00024.0"}}`,
			"ni:///sha-256;c50842eb714406394a77fb7b517fea621c78a61f65549874de7c9e019afe7b6f?ver=CBV2.0"},
		{"commissioning a quantity of an LGTIN with ILMD",
			`{"type": "ObjectEvent", "eventTime": "2019-10-21T14:58:56.000+02:00", "eventTimeZoneOffset": "+02:00", "quantityList": [{"epcClass": "urn:epc:class:lgtin:4054739.099914.20160711", "quantity": 600, "uom": "KGM"}], "action": "ADD", "bizStep": "commissioning", "readPoint": {"id": "urn:epc:id:sgln:4054739.00001.0"}, "ilmd": {"cbvmda:bestBeforeDate": "2019-10-21"}}`,
			"ni:///sha-256;5f396ea5cb32fe4d0980cb79f5a5eb9640559e9f5a6cefa5c98a7d6ad554b50b?ver=CBV2.0"},
		{"aggregation of SGTINs under an SSCC",
			`{"type": "AggregationEvent", "eventTime": "2019-10-21T11:58:56.591+02:00", "eventTimeZoneOffset": "+02:00", "parentID": "urn:epc:id:sscc:4047023.0111111122", "childEPCs": ["urn:epc:id:sgtin:4047023.077551.98", "urn:epc:id:sgtin:4047023.077551.97", "urn:epc:id:sgtin:4047023.077551.107", "urn:epc:id:sgtin:4047023.077551.109"], "action": "ADD", "bizStep": "packing", "readPoint": {"id": "urn:epc:id:sgln:4047023.00012.0"}}`,
			"ni:///sha-256;c941e6486c561c2be83c28dc228c150eaef9a6befb1015e6cc563982fb7414b6?ver=CBV2.0"},
		{"aggregation of quantities, one without uom",
			`{"type": "AggregationEvent", "eventTime": "2019-10-21T17:30:56.591+02:00", "eventTimeZoneOffset": "+02:00", "parentID": "urn:epc:id:sscc:4012344.0111111133", "childQuantityList": [{"epcClass": "urn:epc:class:lgtin:4054739.099902.P2", "quantity": 12, "uom": "KGM"}, {"epcClass": "urn:epc:class:lgtin:4054739.012345.lot2", "quantity": 17}], "action": "ADD", "bizStep": "packing", "readPoint": {"id": "urn:epc:id:sgln:4012345.00025.0"}}`,
			"ni:///sha-256;cfda50b7ff23682e989bafc3747ac9b752f405305fcde6618280f6be27344f35?ver=CBV2.0"},
		{"transaction event with readPoint and bizLocation",
			`{"type": "TransactionEvent", "eventTime": "2019-10-21T00:05:00-06:00", "eventTimeZoneOffset": "-06:00", "epcList": ["urn:epc:id:sgtin:0614141.107340.1", "urn:epc:id:sgtin:0614141.107340.2"], "action": "ADD", "bizStep": "shipping", "readPoint": {"id": "urn:epc:id:sgln:4012345.00000.5"}, "bizLocation": {"id": "urn:epc:id:sgln:4012345.00000.0"}, "bizTransactionList": [{"type": "po", "bizTransaction": "urn:epcglobal:cbv:bt:4012345123456:RE100099"}]}`,
			"ni:///sha-256;cf6559dc931963f19ed9cd2fe33c02ef64c8cfd557e5a96b086a87db315b7122?ver=CBV2.0"},
		{"transformation of EPCs with a GDTI transformationID and ILMD",
			`{"type": "TransformationEvent", "eventTime": "2019-10-21T14:58:56.591+02:00", "eventTimeZoneOffset": "+02:00", "inputEPCList": ["urn:epc:id:sgtin:4012345.011122.25", "urn:epc:id:sgtin:4000001.065432.99886655"], "outputEPCList": ["urn:epc:id:sgtin:4012345.077889.25", "urn:epc:id:sgtin:4012345.077889.26", "urn:epc:id:sgtin:4012345.077889.27", "urn:epc:id:sgtin:4012345.077889.28"], "transformationID": "urn:epc:id:gdti:4012345.55555.1234", "bizStep": "commissioning", "readPoint": {"id": "urn:epc:id:sgln:4012345.00001.0"}, "ilmd": {"example:bestBeforeDate": "2020-11-10", "example:batch": "4711"}}`,
			"ni:///sha-256;335da6c3ab1d932824748791beec4d7ed261ed383f6849f6b8718e8fafb4d298?ver=CBV2.0"},
		{"transformation with input quantities and an EPC pattern",
			`{"type": "TransformationEvent", "eventTime": "2019-10-21T14:58:56.591+02:00", "eventTimeZoneOffset": "+02:00", "inputEPCList": ["urn:epc:id:sgtin:4012345.011122.25", "urn:epc:id:sgtin:4000001.065432.99886655"], "outputEPCList": ["urn:epc:id:sgtin:4012345.077889.25", "urn:epc:id:sgtin:4012345.077889.26", "urn:epc:id:sgtin:4012345.077889.27", "urn:epc:id:sgtin:4012345.077889.28"], "inputQuantityList": [{"epcClass": "urn:epc:class:lgtin:4012345.011111.4444", "quantity": 10, "uom": "KGM"}, {"epcClass": "urn:epc:class:lgtin:0614141.077777.987", "quantity": 30}, {"epcClass": "urn:epc:idpat:sgtin:4012345.066666.*", "quantity": 220}], "bizStep": "commissioning", "readPoint": {"id": "urn:epc:id:sgln:4012345.00001.0"}, "ilmd": {"example:bestBeforeDate": "2015-11-10", "example:batch": "XYZ"}}`,
			"ni:///sha-256;36ab2ba0e3eac03d14a630148c63c31da00b8c4f1c311f501eb459e89a6e6350?ver=CBV2.0"},
		{"transformation with a bizStep outside the CBV",
			`{"type": "TransformationEvent", "eventTime": "2019-10-21T14:58:56.591+02:00", "eventTimeZoneOffset": "+02:00", "inputEPCList": ["urn:epc:id:sgtin:4012345.011122.25", "urn:epc:id:sgtin:4000001.065432.99886655"], "outputQuantityList": [{"epcClass": "urn:epc:class:lgtin:4054739.099902.P20131121", "quantity": 9520}], "transformationID": "urn:epc:id:gdti:4012345.55555.1234", "bizStep": "http://epcis.example.com/user/vocab/bizstep/exampling", "readPoint": {"id": "urn:epc:id:sgln:4012345.00001.0"}}`,
			"ni:///sha-256;756558aa09b2d38c6bcb6e50eab2fcbebd9bde17362a7c4f4686a5d7f5fb013f?ver=CBV2.0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := EventHash([]byte(tt.event), ns)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				pre, _ := EventPreHash([]byte(tt.event), ns)
				t.Errorf("EventHash = %s, want %s\npre-hash: %s", got, tt.want, pre)
			}
		})
	}
}

// TestEventPreHashOfTheReferenceExample spells out the pre-hash string of the
// standard's first example, as published with it.
func TestEventPreHashOfTheReferenceExample(t *testing.T) {
	event := `{"type": "ObjectEvent", "eventTime": "2020-03-04T11:00:30.000+01:00", "eventTimeZoneOffset": "+01:00",
		"recordTime": "2020-03-04T11:00:30.999+01:00",
		"epcList": ["urn:epc:id:sscc:4012345.0000000333", "urn:epc:id:sscc:4012345.0000000111", "urn:epc:id:sscc:4012345.0000000222"],
		"action": "OBSERVE", "bizStep": "departing", "readPoint": {"id": "urn:epc:id:sgln:4012345.00011.987"},
		"example:myField1": {"example:mySubField1": "2", "example:mySubField2": "5"}, "example:myField2": "0",
		"example:myField3": {"example:mySubField3": ["3", "1"]}}`
	want := "eventType=ObjectEventeventTime=2020-03-04T10:00:30.000ZeventTimeZoneOffset=+01:00" +
		"epcListepc=https://id.gs1.org/00/040123450000001112epc=https://id.gs1.org/00/040123450000002225epc=https://id.gs1.org/00/040123450000003338" +
		"action=OBSERVEbizStep=https://ref.gs1.org/cbv/BizStep-departingreadPointid=https://id.gs1.org/414/4012345000115/254/987" +
		"{https://ns.example.com/epcis/}myField1{https://ns.example.com/epcis/}mySubField1=2{https://ns.example.com/epcis/}mySubField2=5" +
		"{https://ns.example.com/epcis/}myField2=0{https://ns.example.com/epcis/}myField3{https://ns.example.com/epcis/}mySubField3=1" +
		"{https://ns.example.com/epcis/}mySubField3=3"
	got, err := EventPreHash([]byte(event), map[string]string{"example": "https://ns.example.com/epcis/"})
	if err != nil || got != want {
		t.Fatalf("pre-hash\n got %s\nwant %s (%v)", got, want, err)
	}
	// Key order and the JSON layout do not matter; a changed value does.
	reordered := `{"readPoint": {"id": "urn:epc:id:sgln:4012345.00011.987"}, "action": "OBSERVE", "bizStep": "departing",
		"epcList": ["urn:epc:id:sscc:4012345.0000000222", "urn:epc:id:sscc:4012345.0000000111", "urn:epc:id:sscc:4012345.0000000333"],
		"example:myField3": {"example:mySubField3": ["1", "3"]}, "example:myField2": "0",
		"example:myField1": {"example:mySubField2": "5", "example:mySubField1": "2"},
		"eventTimeZoneOffset": "+01:00", "eventTime": "2020-03-04T10:00:30Z", "type": "ObjectEvent", "eventID": "ni:///anything"}`
	if got, _ := EventPreHash([]byte(reordered), map[string]string{"example": "https://ns.example.com/epcis/"}); got != want {
		t.Errorf("reordered event:\n got %s", got)
	}
	if _, err := EventHash([]byte(strings.Replace(event, "example:", "other:", 1)), map[string]string{"example": "https://ns.example.com/epcis/"}); err == nil {
		t.Error("an extension without a namespace was hashed")
	}
}
