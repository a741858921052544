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

// TestOverlapsBoundedOnOneHost: 10k equal-priority PathPrefix routes under
// one host make 50M candidate pairs. The analysis stops at its budget
// (it held all of them in memory before: 3 GB), says so, and stops at the
// same place every time.
func TestOverlapsBoundedOnOneHost(t *testing.T) {
	b := route.NewBuilder([]string{"web"})
	for i := 0; i < 10000; i++ {
		src := fmt.Sprintf("Host(`one.example`) && PathPrefix(`/p%05d`)", i)
		tree, err := rule.Parse(src)
		if err != nil {
			t.Fatal(err)
		}
		b.Add(&route.Route{Name: fmt.Sprintf("r%05d", i), Rule: src, Priority: int64(len(src)), EntryPoints: []string{"web"}}, compile.Entries(tree))
	}
	tbl := b.Build()
	first := compile.Overlaps(tbl)
	if len(first) == 0 || !strings.Contains(first[len(first)-1].Message, "overlap analysis stopped") {
		t.Fatalf("want the budget warning last; got %d diagnostics", len(first))
	}
	again := compile.Overlaps(tbl)
	if fmt.Sprint(first) != fmt.Sprint(again) {
		t.Fatal("the report differs between two runs over the same table")
	}
}
