package watch

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/sluiceproxy/sluice/compile/model"
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

// TestWatchWaitsForWrites: a file rewritten in place (truncated, then,
// 30 ms later, filled) is never read empty: Watch reads a change only once
// it has held still for Settle.
func TestWatchWaitsForWrites(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.yaml")
	if err := os.WriteFile(path, []byte(route("a", "a.example")), 0o644); err != nil {
		t.Fatal(err)
	}
	m := &Manifests{Dir: dir, Settle: 250 * time.Millisecond}
	var mu sync.Mutex
	var hosts []string // the first route's match of each snapshot, "" for none
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		m.Watch(ctx, 5*time.Millisecond, func(snap *model.Snapshot, _ []model.Diagnostic, err error) {
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				hosts = append(hosts, "error: "+err.Error())
			case len(snap.IngressRoutes) == 0:
				hosts = append(hosts, "")
			default:
				hosts = append(hosts, snap.IngressRoutes[0].Spec.Routes[0].Match)
			}
		})
	}()
	time.Sleep(50 * time.Millisecond)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(30 * time.Millisecond) // the writer is slow: the file is empty meanwhile
	f.WriteString(route("a", "a2.example"))
	f.Close()
	time.Sleep(700 * time.Millisecond)
	cancel()
	<-done
	mu.Lock()
	defer mu.Unlock()
	want := []string{"Host(`a.example`)", "Host(`a2.example`)"}
	if len(hosts) != 2 || hosts[0] != want[0] || hosts[1] != want[1] {
		t.Errorf("snapshots %q, want %q (never the empty file)", hosts, want)
	}
}
