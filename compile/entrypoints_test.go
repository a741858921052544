package compile_test

import (
	"fmt"
	"testing"

	"github.com/sluiceproxy/sluice/compile"
)

// TestDefaultEntryPoints: a route without entryPoints attaches to every
// entry point, or only to the asDefault ones when any is marked (crd.md
// section 9, ecosystem.md asDefault); listed entry points are kept as is.
func TestDefaultEntryPoints(t *testing.T) {
	all := []string{"admin", "web", "websecure"}
	for _, tc := range []struct {
		defaults []string
		listed   []string
		want     string
	}{
		{nil, nil, "[admin web websecure]"},
		{[]string{"web", "websecure"}, nil, "[web websecure]"},
		{[]string{"web"}, []string{"admin"}, "[admin]"},
	} {
		snap := irSnapshot(1)
		snap.IngressRoutes[0].Spec.EntryPoints = tc.listed
		tab, diags := compile.Compile(snap, compile.Options{EntryPoints: all, DefaultEntryPoints: tc.defaults})
		if len(diags) != 0 || len(tab.Routes) != 1 {
			t.Fatalf("defaults %v: unexpected result %d routes, %v", tc.defaults, len(tab.Routes), diags)
		}
		if got := fmt.Sprint(tab.Routes[0].EntryPoints); got != tc.want {
			t.Errorf("defaults %v, listed %v; got %s; want %s", tc.defaults, tc.listed, got, tc.want)
		}
	}
}
