package api

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// liveHarness runs the dashboard's live-chart script under Node.js with a
// stand-in DOM (one router cell) and fetch (two readings 2 s apart: 20
// requests, 40 ms of summed duration more), and prints the cell.
const liveHarness = `
const script = require("fs").readFileSync(process.argv[2], "utf8");
const cell = {dataset: {router: "r1"}, textContent: "", innerHTML: ""};
const note = {textContent: ""};
global.document = {querySelectorAll: () => [cell], getElementById: () => note};
const readings = [{unixMillis: 1000, routers: [{router: "r1", requests: 10, durationNanos: 1e7}]},
  {unixMillis: 3000, routers: [{router: "r1", requests: 30, durationNanos: 5e7}], note: "n"}];
let calls = 0;
global.fetch = () => { const d = readings[calls++]; return Promise.resolve({json: () => Promise.resolve(d)}); };
global.setTimeout = (f) => { if (calls < readings.length) f(); else console.log(note.textContent + "|" + cell.innerHTML); };
eval(script);
`

// TestLiveChartsScript: the routers page's script turns two readings of
// /api/sluice/live into a rate and a mean latency and draws them (run by
// Node.js, which make tools installs).
func TestLiveChartsScript(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("SLUICE_REQUIRE_TOOLS") != "" {
			t.Fatal("node is required (make tools installs nodejs)")
		}
		t.Skip("no node")
	}
	var page bytes.Buffer
	if err := dashboardTmpl.ExecuteTemplate(&page, "routers", Build(Input{})); err != nil {
		t.Fatal(err)
	}
	_, script, ok := strings.Cut(page.String(), "<script>")
	script, _, ok2 := strings.Cut(script, "</script>")
	if !ok || !ok2 {
		t.Fatal("no script on the routers page")
	}
	dir := t.TempDir()
	js, harness := filepath.Join(dir, "live.js"), filepath.Join(dir, "harness.js")
	os.WriteFile(js, []byte(script), 0o644)
	os.WriteFile(harness, []byte(liveHarness), 0o644)
	out, err := exec.Command(node, harness, js).CombinedOutput()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, out)
	}
	got := strings.TrimSpace(string(out))
	if !strings.HasPrefix(got, "n|<svg") || !strings.Contains(got, "<polyline") || !strings.HasSuffix(got, "</svg> 10.0 req/s, 2.00 ms") {
		t.Errorf("the cell after two readings: %s", got)
	}
}
