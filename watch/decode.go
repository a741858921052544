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

// splitDocuments splits on lines that are exactly "---" (optionally
// followed by spaces or a comment), as Kubernetes' YAML reader does.
func splitDocuments(data []byte) [][]byte {
	var docs [][]byte
	var cur bytes.Buffer
	for _, line := range bytes.SplitAfter(data, []byte("\n")) {
		t := bytes.TrimRight(line, " \t\r\n")
		if bytes.Equal(t, []byte("---")) || bytes.HasPrefix(t, []byte("--- #")) {
			docs = append(docs, append([]byte(nil), cur.Bytes()...))
			cur.Reset()
			continue
		}
		cur.Write(line)
	}
	return append(docs, cur.Bytes())
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
	if h.Meta.Namespace == "" {
		h.Meta.Namespace = "default"
	}
	obj := h.Kind + " " + h.Meta.Namespace + "/" + h.Meta.Name
	group := h.APIVersion
	if i := strings.IndexByte(group, '/'); i >= 0 {
		group = group[:i]
	}
	target, ok := newObject(group, h.Kind, file)
	if !ok {
		return nil // a kind Sluice does not read: ignored
	}
	var diags []model.Diagnostic
	if err := strictUnmarshal(js, target.ptr); err != nil {
		if !strings.Contains(err.Error(), "unknown field") {
			return []model.Diagnostic{{Severity: model.Error, File: file, Object: obj, Field: fieldOf(err),
				Message: "cannot decode: " + err.Error() + "; object ignored"}}
		}
		diags = append(diags, model.Diagnostic{Severity: model.Warning, File: file, Object: obj,
			Message: err.Error() + " (ignored, as the API server prunes unknown fields)"})
		_ = json.Unmarshal(js, target.ptr)
	}
	if h.Meta.Name == "" && h.Meta.GenerateName == "" {
		return append(diags, model.Diagnostic{Severity: model.Error, File: file, Object: obj, Field: "metadata.name", Message: "name is required; object ignored"})
	}
	target.add(snap, h.Meta.Namespace)
	return diags
}

func strictUnmarshal(js []byte, v any) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(js, &m); err == nil {
		delete(m, "apiVersion")
		delete(m, "status")
		if _, isObject := v.(*model.Object); !isObject {
			delete(m, "kind")
		}
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
