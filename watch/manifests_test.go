package watch

import (
	"os"
	"path/filepath"
	"testing"
)

func route(name, host string) string {
	return "apiVersion: traefik.io/v1alpha1\nkind: IngressRoute\nmetadata: {name: " + name + ", namespace: ns}\n" +
		"spec:\n  routes:\n  - match: Host(`" + host + "`)\n    services: [{name: s, port: 80}]\n"
}

// TestLoadReusesUnchangedFiles: an edit to one file decodes that file only;
// the other files' objects are the same values as before (what lets the
// compiler reuse their routes), and a broken edit keeps the file's last good
// objects.
func TestLoadReusesUnchangedFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a.yaml", route("a", "a.example"))
	write("b.yaml", route("b", "b.example"))
	m := &Manifests{Dir: dir}
	load := func() map[string]any {
		t.Helper()
		snap, _, err := m.Load()
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]any{}
		for _, ir := range snap.IngressRoutes {
			out[ir.Meta.Name+" "+ir.Spec.Routes[0].Match] = ir
		}
		return out
	}
	first := load()
	for _, tc := range []struct {
		name, file, content string
		same, changed       []string // keys whose object must be the same pointer, or present and new
	}{
		{"nothing changed", "", "", []string{"a Host(`a.example`)", "b Host(`b.example`)"}, nil},
		{"b edited", "b.yaml", route("b", "b2.example"), []string{"a Host(`a.example`)"}, []string{"b Host(`b2.example`)"}},
		{"b broken keeps its last good", "b.yaml", "kind: IngressRoute\nmetadata: {name: b\n", []string{"a Host(`a.example`)"}, []string{"b Host(`b2.example`)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.file != "" {
				write(tc.file, tc.content)
			}
			got := load()
			for _, k := range tc.same {
				if got[k] == nil || got[k] != first[k] {
					t.Errorf("%s: not the same object as the first load", k)
				}
			}
			for _, k := range tc.changed {
				if got[k] == nil {
					t.Errorf("%s: missing", k)
				}
			}
			if len(got) != 2 {
				t.Errorf("%d IngressRoutes, want 2: %v", len(got), got)
			}
		})
	}
}
