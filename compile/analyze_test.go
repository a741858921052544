package compile_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/sluiceproxy/sluice/compile"
	"github.com/sluiceproxy/sluice/compile/rule"
	"github.com/sluiceproxy/sluice/fastpath/route"
)

// TestOverlapsAtScale: 30k routes of one priority on distinct hosts are
// paired only by host, so the overlapping pair at the end is still found,
// and nothing else is reported.
func TestOverlapsAtScale(t *testing.T) {
	b := route.NewBuilder([]string{"web"})
	add := func(name, src string) {
		tree, err := rule.Parse(src)
		if err != nil {
			t.Fatal(err)
		}
		b.Add(&route.Route{Name: name, Rule: src, Priority: int64(len(src)), EntryPoints: []string{"web"}}, compile.Entries(tree))
	}
	for i := 0; i < 30000; i++ {
		add(fmt.Sprintf("r%05d", i), fmt.Sprintf("Host(`h%05d.example`)", i))
	}
	add("z-dup", "Host(`h29999.example`)")
	add("z-wild", "Host(`*.h299.example`)") // same priority, no host in common with any other
	diags := compile.Overlaps(b.Build())
	if len(diags) != 1 || !strings.Contains(diags[0].Message, "r29999") || !strings.Contains(diags[0].Message, "z-dup") {
		t.Fatalf("want exactly the r29999/z-dup overlap; got %d diagnostics: %v", len(diags), diags)
	}
}
