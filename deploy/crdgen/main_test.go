package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestCommittedCRDsAreGenerated fails when compile/model changed and
// deploy/crds was not regenerated (go run ./deploy/crdgen).
func TestCommittedCRDsAreGenerated(t *testing.T) {
	files := Generate()
	if len(files) != len(kinds) {
		t.Fatalf("generated %d files for %d kinds", len(files), len(kinds))
	}
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join("..", "crds", name))
		if err != nil {
			t.Fatalf("%s: %v (run: go run ./deploy/crdgen)", name, err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("deploy/crds/%s is stale: run go run ./deploy/crdgen", name)
		}
	}
}
