package watch

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/sluiceproxy/sluice/compile/model"
)

// viaYAML decodes data the way Decode did before its JSON path: every
// document through YAML.
func viaYAML(t *testing.T, data string) (*model.Snapshot, []model.Diagnostic) {
	t.Helper()
	snap := &model.Snapshot{}
	var diags []model.Diagnostic
	for _, doc := range splitDocuments([]byte(data)) {
		js, err := yaml.YAMLToJSON(doc)
		if err != nil {
			t.Fatal(err)
		}
		diags = append(diags, decodeObject("f.yaml", js, snap)...)
	}
	return snap, diags
}

// TestJSONDocumentsDecodeAsYAML: a document that is JSON decodes to what
// the YAML path gives, objects and diagnostics alike, including where the
// JSON path hands over to YAML (a List, a number JSON cannot put in an
// integer, an error).
func TestJSONDocumentsDecodeAsYAML(t *testing.T) {
	for _, tc := range []struct{ name, doc string }{
		{"ingressroute", `{"apiVersion":"traefik.io/v1alpha1","kind":"IngressRoute","metadata":{"name":"r","namespace":"ns"},` +
			`"spec":{"entryPoints":["web"],"routes":[{"match":"Host(` + "`a.example`" + `)","priority":7,` +
			`"services":[{"name":"svc","port":80,"weight":2},{"name":"svc2","port":"http"}]}]}}`},
		{"no namespace", `{"apiVersion":"v1","kind":"Service","metadata":{"name":"svc"},"spec":{"ports":[{"name":"http","port":80}]}}`},
		{"unknown field", `{"apiVersion":"v1","kind":"Service","metadata":{"name":"svc","uid":"x"},"spec":{"bogus":1,"ports":[]}}`},
		{"float for an integer", `{"apiVersion":"v1","kind":"Service","metadata":{"name":"svc"},"spec":{"ports":[{"port":80.0}]}}`},
		{"wrong type", `{"apiVersion":"v1","kind":"Service","metadata":{"name":"svc"},"spec":{"ports":"80"}}`},
		{"no name", `{"apiVersion":"v1","kind":"Service","metadata":{},"spec":{}}`},
		{"unread kind", `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"}}`},
		{"list", `{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"v1","kind":"Service","metadata":{"name":"a"},"spec":{}},` +
			`{"apiVersion":"v1","kind":"Service","metadata":{"name":"b"},"spec":{"ports":"x"}}]}`},
		{"escapes", `{"apiVersion":"v1","kind":"Service","metadata":{"name":"s\u0076c","namespace":"a\tb"},"spec":{}}`},
		{"yaml flow, not json", `{apiVersion: v1, kind: Service, metadata: {name: svc}, spec: {}}`},
		{"json then a comment", `{"apiVersion":"v1","kind":"Service","metadata":{"name":"svc"},"spec":{}} # c`},
	} {
		data := tc.doc + "\n---\n" + tc.doc + "\n"
		want, wantDiags := viaYAML(t, data)
		got := &model.Snapshot{}
		gotDiags := Decode("f.yaml", []byte(data), got)
		if !reflect.DeepEqual(got, want) {
			g, _ := json.Marshal(got)
			w, _ := json.Marshal(want)
			t.Errorf("%s: objects differ from YAML's:\n got %s\nwant %s", tc.name, g, w)
		}
		if !reflect.DeepEqual(gotDiags, wantDiags) {
			t.Errorf("%s: diagnostics differ from YAML's:\n got %v\nwant %v", tc.name, gotDiags, wantDiags)
		}
		if strings.Contains(tc.name, "ingressroute") && len(got.IngressRoutes) != 2 {
			t.Errorf("%s: %d IngressRoutes decoded; want 2", tc.name, len(got.IngressRoutes))
		}
	}
	// JSON that YAML refuses (YAML has no \/ escape) is read as JSON, as
	// kubectl reads it.
	snap := &model.Snapshot{}
	if d := Decode("f.json", []byte(`{"apiVersion":"v1","kind":"Service","metadata":{"name":"a\/b"},"spec":{}}`), snap); len(d) > 0 || len(snap.Services) != 1 || snap.Services[0].Meta.Name != "a/b" {
		t.Errorf("JSON with \\/: %v, %d services", d, len(snap.Services))
	}
}

func TestSplitDocuments(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"", []string{""}},
		{"a: 1\n", []string{"a: 1\n"}},
		{"a: 1\n---\nb: 2\n", []string{"a: 1\n", "b: 2\n"}},
		{"---\na: 1\n--- # two\nb: 2", []string{"", "a: 1\n", "b: 2"}},
		{"a: 1\r\n---  \r\nb: '---'\n----\n", []string{"a: 1\r\n", "b: '---'\n----\n"}},
		{"a: |\n  ---\n---\n", []string{"a: |\n  ---\n", ""}},
	} {
		var got []string
		for _, d := range splitDocuments([]byte(tc.in)) {
			got = append(got, string(d))
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("splitDocuments(%q) = %q; want %q", tc.in, got, tc.want)
		}
	}
}

// TestTypedKindsNameTheField: every traefik.io kind decodes into its typed
// model, so a value of the wrong type is an error naming the object and
// the field (the object is left out), and an unknown field a warning
// naming it (the object is kept), as IngressRoutes always were.
func TestTypedKindsNameTheField(t *testing.T) {
	f := func(doc, wantField, wantMsg string, kept bool) {
		t.Helper()
		snap := &model.Snapshot{}
		diags := Decode("f.yaml", []byte(doc), snap)
		n := len(snap.Middlewares) + len(snap.TraefikServices) + len(snap.TLSOptions) + len(snap.TLSStores) + len(snap.ServersTransports)
		if len(diags) != 1 || diags[0].Field != wantField || !strings.Contains(diags[0].Message, wantMsg) || (n == 1) != kept {
			t.Fatalf("unexpected decode of %q; got %v (%d kept); want field %q, message with %q, kept %t", doc, diags, n, wantField, wantMsg, kept)
		}
	}
	f("apiVersion: traefik.io/v1alpha1\nkind: Middleware\nmetadata: {name: m}\nspec: {addPrefix: {prefix: 5}}\n",
		"spec.addPrefix.prefix", "cannot decode", false)
	f("apiVersion: traefik.io/v1alpha1\nkind: TLSOption\nmetadata: {name: o}\nspec: {sniStrict: \"yes\"}\n",
		"spec.sniStrict", "cannot decode", false)
	f("apiVersion: traefik.io/v1alpha1\nkind: ServersTransport\nmetadata: {name: st}\nspec: {maxIdleConnsPerHost: many}\n",
		"spec.maxIdleConnsPerHost", "cannot decode", false)
	f("apiVersion: traefik.io/v1alpha1\nkind: TraefikService\nmetadata: {name: ts}\nspec: {weighted: {services: [{name: a, port: 80, wieght: 2}]}}\n",
		"", `unknown field "wieght"`, true)
	f("apiVersion: traefik.io/v1alpha1\nkind: TLSStore\nmetadata: {name: default}\nspec: {defaultCertificate: {secretName: [x]}}\n",
		"spec.defaultCertificate.secretName", "cannot decode", false)
}
