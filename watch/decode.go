package watch

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/sluiceproxy/sluice/compile/model"
)

// typeMeta and a raw document, to dispatch on kind.
type header struct {
	APIVersion string          `json:"apiVersion"`
	Kind       string          `json:"kind"`
	Meta       model.Meta      `json:"metadata"`
	Items      json.RawMessage `json:"items"`
}

// Decode adds the objects of one YAML file to snap and returns the
// diagnostics of what could not be decoded.
func Decode(file string, data []byte, snap *model.Snapshot) []model.Diagnostic {
	var diags []model.Diagnostic
	for i, doc := range splitDocuments(data) {
		if d, ok := decodeJSONDocument(file, doc, snap); ok {
			diags = append(diags, d...)
			continue
		}
		js, err := yaml.YAMLToJSON(doc)
		if err != nil {
			diags = append(diags, model.Diagnostic{Severity: model.Error, File: file,
				Message: fmt.Sprintf("document %d: invalid YAML: %v", i+1, err)})
			continue
		}
		if bytes.Equal(bytes.TrimSpace(js), []byte("null")) {
			continue
		}
		diags = append(diags, decodeObject(file, js, snap)...)
	}
	return diags
}

// decodeJSONDocument decodes a document that is one JSON object, not a
// List, straight from its JSON. JSON is YAML, so this gives the objects
// the YAML path gives, without YAML's parse and re-encoding, which were
// most of the start-up time and garbage of a large generated directory
// (2 GB allocated for 100k objects). It reports false, having added
// nothing, for anything else or anything it cannot decode cleanly: that
// takes the YAML path, for YAML's conversions and its error messages.
func decodeJSONDocument(file string, doc []byte, snap *model.Snapshot) ([]model.Diagnostic, bool) {
	if t := bytes.TrimSpace(doc); len(t) == 0 || t[0] != '{' {
		return nil, false
	}
	var h header
	if json.Unmarshal(doc, &h) != nil || strings.HasSuffix(h.Kind, "List") {
		return nil, false
	}
	obj, diags := decodeWith(doc, h, model.Origin{File: file})
	for _, d := range diags {
		if d.Severity == model.Error {
			return nil, false
		}
	}
	if obj != nil {
		Add(snap, obj)
	}
	return diags, true
}

// splitDocuments splits on lines that are exactly "---" (optionally
// followed by spaces or a comment), as Kubernetes' YAML reader does.
// The documents are subslices of data (a copy each doubled the memory a
// large file took while it was decoded).
func splitDocuments(data []byte) [][]byte {
	var docs [][]byte
	start := 0
	for off := 0; off < len(data); {
		end := len(data)
		if i := bytes.IndexByte(data[off:], '\n'); i >= 0 {
			end = off + i + 1
		}
		t := bytes.TrimRight(data[off:end], " \t\r\n")
		if bytes.Equal(t, []byte("---")) || bytes.HasPrefix(t, []byte("--- #")) {
			docs = append(docs, data[start:off:off])
			start = end
		}
		off = end
	}
	return append(docs, data[start:len(data):len(data)])
}

func decodeObject(file string, js []byte, snap *model.Snapshot) []model.Diagnostic {
	var h header
	if err := json.Unmarshal(js, &h); err != nil {
		return []model.Diagnostic{{Severity: model.Error, File: file, Message: "not a Kubernetes object: " + err.Error()}}
	}
	if h.Kind == "List" || strings.HasSuffix(h.Kind, "List") && len(h.Items) > 0 {
		var items []json.RawMessage
		if err := json.Unmarshal(h.Items, &items); err != nil {
			return []model.Diagnostic{{Severity: model.Error, File: file, Object: h.Kind, Field: "items", Message: err.Error()}}
		}
		var diags []model.Diagnostic
		for _, it := range items {
			diags = append(diags, decodeObject(file, it, snap)...)
		}
		return diags
	}
	obj, diags := decodeWith(js, h, model.Origin{File: file})
	if obj != nil {
		Add(snap, obj)
	}
	return diags
}

// DecodeObject decodes one Kubernetes object given as JSON into its model
// type (*model.IngressRoute, *model.Middleware, *model.Service, ...: every
// kind a Snapshot holds). It returns nil for kinds
// Sluice does not read, and nil with an error diagnostic for an object that
// cannot be decoded. Unknown fields are a warning: the API server prunes
// them, so they never change what is served.
func DecodeObject(js []byte, origin model.Origin) (any, []model.Diagnostic) {
	var h header
	if err := json.Unmarshal(js, &h); err != nil {
		return nil, []model.Diagnostic{{Severity: model.Error, File: origin.File, Message: "not a Kubernetes object: " + err.Error()}}
	}
	return decodeWith(js, h, origin)
}

// decodeWith is DecodeObject for a document whose header h is parsed.
func decodeWith(js []byte, h header, origin model.Origin) (any, []model.Diagnostic) {
	if h.Meta.Namespace == "" {
		h.Meta.Namespace = "default"
	}
	obj := h.Kind + " " + h.Meta.Namespace + "/" + h.Meta.Name
	group := h.APIVersion
	if i := strings.IndexByte(group, '/'); i >= 0 {
		group = group[:i]
	}
	target := newObject(group, h.Kind, origin)
	if target == nil {
		return nil, nil // a kind Sluice does not read: ignored
	}
	var diags []model.Diagnostic
	if err := strictUnmarshal(js, target); err != nil {
		if !strings.Contains(err.Error(), "unknown field") {
			return nil, []model.Diagnostic{{Severity: model.Error, File: origin.File, Object: obj, Field: fieldOf(err),
				Message: "cannot decode: " + err.Error() + "; object ignored"}}
		}
		diags = append(diags, model.Diagnostic{Severity: model.Warning, File: origin.File, Object: obj,
			Message: err.Error() + " (ignored, as the API server prunes unknown fields)"})
		_ = json.Unmarshal(js, target)
	}
	if h.Meta.Name == "" && h.Meta.GenerateName == "" {
		return nil, append(diags, model.Diagnostic{Severity: model.Error, File: origin.File, Object: obj, Field: "metadata.name", Message: "name is required; object ignored"})
	}
	setNamespace(target, h.Meta.Namespace)
	return target, diags
}

func strictUnmarshal(js []byte, v any) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(js, &m); err == nil {
		delete(m, "apiVersion")
		if _, isNode := v.(*model.Node); !isNode {
			delete(m, "status") // a Node's addresses are in its status
		}
		if raw, ok := m["metadata"]; ok {
			// Metadata is the API server's: only what Sluice reads is kept,
			// the rest (uid, managedFields, ...) is no user error.
			var meta model.Meta
			if json.Unmarshal(raw, &meta) == nil {
				m["metadata"], _ = json.Marshal(meta)
			}
		}
		delete(m, "kind")
		js, _ = json.Marshal(m)
	}
	d := json.NewDecoder(bytes.NewReader(js))
	d.DisallowUnknownFields()
	return d.Decode(v)
}

// fieldOf extracts the JSON field path of a type error.
func fieldOf(err error) string {
	if te, ok := err.(*json.UnmarshalTypeError); ok {
		return te.Field
	}
	return ""
}
