package compile_test

import (
	"flag"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluiceproxy/sluice/compile"
	"github.com/sluiceproxy/sluice/compile/model"
	"github.com/sluiceproxy/sluice/watch"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func load(t *testing.T, file string) *model.Snapshot {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	snap := &model.Snapshot{}
	if d := watch.Decode(filepath.Base(file), data, snap); len(d) > 0 {
		for _, x := range d {
			if x.Severity == model.Error {
				t.Fatalf("decode %s: %v", file, x)
			}
		}
	}
	return snap
}

func dump(snap *model.Snapshot) string {
	t, diags := compile.Compile(snap, compile.Options{EntryPoints: []string{"web", "internal"}})
	var b strings.Builder
	b.WriteString(t.Dump())
	b.WriteString("diagnostics:\n")
	for _, d := range diags {
		b.WriteString("  " + d.String() + "\n")
	}
	for _, d := range compile.Shadowed(t) {
		b.WriteString("  " + d.String() + "\n")
	}
	return b.String()
}

func shuffle(snap *model.Snapshot, r *rand.Rand) {
	r.Shuffle(len(snap.IngressRoutes), func(i, j int) {
		snap.IngressRoutes[i], snap.IngressRoutes[j] = snap.IngressRoutes[j], snap.IngressRoutes[i]
	})
	r.Shuffle(len(snap.Services), func(i, j int) { snap.Services[i], snap.Services[j] = snap.Services[j], snap.Services[i] })
	r.Shuffle(len(snap.EndpointSlices), func(i, j int) {
		snap.EndpointSlices[i], snap.EndpointSlices[j] = snap.EndpointSlices[j], snap.EndpointSlices[i]
	})
}

// TestGolden compiles every testdata/*.yaml and compares the table dump and
// diagnostics with testdata/*.golden; shuffled inputs must give the same.
func TestGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.yaml")
	if len(files) == 0 {
		t.Fatal("no golden inputs")
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			got := dump(load(t, file))
			golden := strings.TrimSuffix(file, ".yaml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./compile -update)", err)
			}
			if got != string(want) {
				t.Fatalf("unexpected dump; got:\n%s\nwant:\n%s", got, want)
			}
			r := rand.New(rand.NewSource(1))
			for i := 0; i < 5; i++ {
				snap := load(t, file)
				shuffle(snap, r)
				if s := dump(snap); s != got {
					t.Fatalf("shuffled input %d changed the dump:\n%s", i, s)
				}
			}
		})
	}
}
