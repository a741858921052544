package compile_test

import (
	"math/rand"
	"os"
	"path/filepath"
	"testing"

	"github.com/sluiceproxy/sluice/compile"
	"github.com/sluiceproxy/sluice/compile/model"
	"github.com/sluiceproxy/sluice/watch"
)

// FuzzManifests decodes whatever the fuzzer makes of a manifest file and
// compiles it, as the manifests provider does. Whatever it is, nothing
// panics, every error says where (a file or an object) and why, and
// the table and its diagnostics do not depend on the order the objects
// came in. Seeds: the golden inputs and the embedded examples.
func FuzzManifests(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.yaml")
	examples, _ := filepath.Glob("../examples/*.yaml")
	for _, file := range append(files, examples...) {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 64<<10 {
			return
		}
		snap := &model.Snapshot{}
		diags := watch.Decode("fuzz.yaml", data, snap)
		_, cdiags := compile.Compile(snap, compile.Options{EntryPoints: []string{"web", "internal"}})
		for _, d := range append(diags, cdiags...) {
			// An error disables what it names, so it must name it; a
			// warning about the table (two routes that overlap) names its
			// routers in the message.
			if d.Message == "" || (d.Severity == model.Error && d.File == "" && d.Object == "") {
				t.Fatalf("a diagnostic that does not say where or why: %+v", d)
			}
		}
		got := dump(snap)
		shuffle(snap, rand.New(rand.NewSource(int64(len(data)))))
		if again := dump(snap); again != got {
			t.Fatalf("the order of the objects changed the table:\n%s\nagainst:\n%s", got, again)
		}
	})
}
